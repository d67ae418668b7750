package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
)

func testSameArticleTwoFeeds(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	a := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	b := feedmux.Feed{URL: "https://b.example/rss", Title: "B"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	first := item("x", "Story", t0, "world")
	first.URL = "https://news.example/story?utm_source=a"
	res, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{first})
	if err != nil || len(res.New) != 1 {
		t.Fatalf("first save: %+v, %v", res, err)
	}
	second := item("y", "Story, as B titles it", t0.Add(time.Minute), "middle-east")
	second.URL = "https://NEWS.example:443/story?utm_source=b#top"
	res, err = db.SaveItems(ctx, feedmux.FeedState{URL: b.URL}, []feedmux.Item{second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 1 || len(res.New) != 0 || !slices.Equal(res.Tags, []string{"middle-east"}) {
		t.Errorf("copy from the second feed: %+v, want inserted, not new, tags [middle-east]", res)
	}
	for _, tag := range []string{"world", "middle-east"} {
		items, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{tag}})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Key != "x" || len(items[0].Also) != 1 || items[0].Also[0].Source.Title != "B" ||
			items[0].Also[0].URL != second.URL {
			t.Errorf("tag %s: %+v, want the first copy once, naming B as well", tag, items)
		}
	}
	all, err := db.Items(ctx, feedmux.ItemFilter{})
	if err != nil || len(all) != 1 {
		t.Errorf("all items: %d (%v), want 1", len(all), err)
	}
}

func testStories(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	var items []feedmux.Item
	for i := range 5 {
		items = append(items, item(string(rune('a'+i)), "T"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Hour), "world"))
	}
	res, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for _, n := range res.New {
		id[n.Key] = n.ID
	}
	// a, c and e are one story; b and d stand alone.
	waiting, err := db.Ungrouped(ctx, 10)
	if err != nil || len(waiting) != 5 || waiting[0].Title != "Ta" {
		t.Fatalf("Ungrouped after the save: %+v, %v; want the 5 new items, oldest first", waiting, err)
	}
	if rows, _ := db.StoryWindow(ctx, t0.Add(-time.Hour)); len(rows) != 0 {
		t.Errorf("the story window holds %d items not yet grouped", len(rows))
	}
	tags, err := db.SaveGrouping(ctx, feedmux.Grouping{Stories: map[int64]int64{id["a"]: id["a"], id["c"]: id["a"], id["e"]: id["a"]},
		Grouped: []int64{id["a"], id["b"], id["c"], id["d"], id["e"]}})
	if err != nil || !slices.Equal(tags, []string{"world"}) {
		t.Fatalf("SetStories: %v, %v", tags, err)
	}
	var got [][]string
	f := feedmux.ItemFilter{Tags: []string{"world"}, Limit: 2}
	for {
		page, err := db.StoryPage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Stories {
			got = append(got, keys(s.Items))
		}
		if page.Next.IsZero() {
			break
		}
		f.Before = page.Next
	}
	want := [][]string{{"a", "c", "e"}, {"d"}, {"b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stories (-want +got):\n%s", diff)
	}
	top, err := db.TopStories(ctx, t0.Add(-time.Hour), 3)
	if err != nil || len(top["world"]) != 1 || top["world"][0].Items != 3 || top["world"][0].Title != "Ta" {
		t.Errorf("TopStories = %+v, %v", top, err)
	}
	if _, err := db.StoryPage(ctx, feedmux.ItemFilter{Tags: []string{"nope"}}); !errors.Is(err, feedmux.ErrUnknownTag) {
		t.Errorf("unknown tag: %v", err)
	}

	// b joins d's story, then that story is merged into a's: all five are
	// one story, under the older id.
	if n, err := db.UngroupedCount(ctx); err != nil || n != 0 {
		t.Errorf("%d items wait for grouping after it (%v), want none", n, err)
	}
	// An item that changes later is grouped already: it does not wait again.
	changed := slices.Clone(items)
	changed[1].Summary = "an update"
	if res, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, changed); err != nil || res.Updated != 1 {
		t.Fatalf("an update: %+v, %v", res, err)
	}
	if n, err := db.UngroupedCount(ctx); err != nil || n != 0 {
		t.Errorf("%d items wait for grouping after an update (%v), want none", n, err)
	}
	if _, err := db.SaveGrouping(ctx, feedmux.Grouping{Stories: map[int64]int64{id["b"]: id["d"]}, Merged: map[int64]int64{id["d"]: id["a"]}}); err != nil {
		t.Fatal(err)
	}
	page, err := db.StoryPage(ctx, feedmux.ItemFilter{Tags: []string{"world"}})
	if err != nil || len(page.Stories) != 1 || page.Stories[0].ID != id["a"] || len(page.Stories[0].Items) != 5 {
		t.Errorf("after the merge: %+v, %v; want one story of five items named by a", page.Stories, err)
	}

	// A member given a tag later (b, merged in through d's story) makes
	// that tag the story's: an item joining it changes that view too.
	items[1].Tags = []string{"world", "late"}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items[1:2]); err != nil {
		t.Fatal(err)
	}
	res, err = db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, []feedmux.Item{item("f", "Tf", t0.Add(6*time.Hour), "other")})
	if err != nil || len(res.New) != 1 {
		t.Fatalf("save f: %+v, %v", res, err)
	}
	tags, err = db.SaveGrouping(ctx, feedmux.Grouping{Stories: map[int64]int64{res.New[0].ID: id["a"]}, Grouped: []int64{res.New[0].ID}})
	if err != nil || !slices.Equal(tags, []string{"late", "other", "world"}) {
		t.Errorf("f joins the story: tags %v, %v; want every member's (late, other, world)", tags, err)
	}
}

func testRetag(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	res, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, []feedmux.Item{item("a", "Gaza talks", t0, "world")})
	if err != nil {
		t.Fatal(err)
	}
	rows, last, err := db.RetagBatch(ctx, 0, 100)
	if err != nil || len(rows) != 1 || rows[0].Item.Title != "Gaza talks" || rows[0].FeedURL != feed.URL || last == 0 {
		t.Fatalf("RetagBatch = %+v, %d, %v", rows, last, err)
	}
	changed, err := db.SetTags(ctx, map[int64][]string{res.New[0].ID: {"gaza", "world"}})
	if err != nil || !slices.Equal(changed, []string{"gaza"}) {
		t.Errorf("SetTags changed %v, %v; want [gaza]", changed, err)
	}
	if items, _ := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"gaza"}}); len(items) != 1 {
		t.Errorf("retagged item not under its new tag")
	}
	if rows, last, _ := db.RetagBatch(ctx, last, 100); len(rows) != 0 || last != 0 {
		t.Errorf("RetagBatch after the end = %d rows, last %d", len(rows), last)
	}
	if err := db.SetMeta(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Meta(ctx, "k"); v != "v1" || err != nil {
		t.Errorf("Meta = %q, %v", v, err)
	}
}
