package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

var t0 = time.Date(2024, 3, 26, 12, 0, 0, 0, time.UTC)

// mustOpen opens a database in a temporary directory, closed at cleanup.
func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "data", "feedmux.db")
	}
	db, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	db.Now = func() time.Time { return t0 }
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func item(key, title string, published time.Time, tags ...string) feedmux.Item {
	return feedmux.Item{
		Key: key, GUID: key, URL: "https://a.example/" + key, Title: title,
		Content: "<p>" + title + "</p>", Published: published, Tags: tags,
		Categories: []string{"Cat " + key},
	}
}

func keys(items []feedmux.Item) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

func TestDB_SaveItems(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A", Tags: []string{"world"}}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	st := feedmux.FeedState{URL: feed.URL, Title: "A's own title", ETag: `"v1"`, LastPoll: t0, NextCheck: t0.Add(time.Hour)}
	items := []feedmux.Item{
		item("1", "One", t0.Add(-3*time.Hour), "world", "iran"),
		item("2", "Two", t0.Add(-1*time.Hour), "world"),
		item("3", "Three", time.Time{}, "world"), // undated: sorted by first seen (now)
	}
	res, err := db.SaveItems(ctx, st, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(feedmux.SaveResult{Inserted: 3, Tags: []string{"iran", "world"}, New: []feedmux.NewItem{{ID: 1, Key: "1"}, {ID: 2, Key: "2"}, {ID: 3, Key: "3"}}}, res); diff != "" {
		t.Errorf("first save (-want +got):\n%s", diff)
	}

	t.Run("saving the same items again writes nothing", func(t *testing.T) {
		res, err := db.SaveItems(ctx, st, items)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(feedmux.SaveResult{}, res); diff != "" {
			t.Errorf("second save (-want +got):\n%s", diff)
		}
	})

	t.Run("newest first across tags", func(t *testing.T) {
		got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"world"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"3", "2", "1"}, keys(got)); diff != "" {
			t.Errorf("world items (-want +got):\n%s", diff)
		}
		got, err = db.Items(ctx, feedmux.ItemFilter{Tags: []string{"iran"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1"}, keys(got)); diff != "" {
			t.Errorf("iran items (-want +got):\n%s", diff)
		}
		want := feedmux.Item{
			Key: "1", GUID: "1", URL: "https://a.example/1", Title: "One", Content: "<p>One</p>",
			Categories: []string{"Cat 1"}, Tags: []string{"iran", "world"},
			Published: t0.Add(-3 * time.Hour), FirstSeen: t0,
			Source: feedmux.Source{URL: feed.URL, Title: "A"},
		}
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Errorf("stored item (-want +got):\n%s", diff)
		}
	})

	t.Run("a changed item is updated with its tags", func(t *testing.T) {
		changed := item("1", "One, corrected", t0.Add(-3*time.Hour), "world", "lebanon")
		res, err := db.SaveItems(ctx, st, []feedmux.Item{changed})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(feedmux.SaveResult{Updated: 1, Tags: []string{"iran", "lebanon", "world"}}, res); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
		got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"lebanon"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Title != "One, corrected" || !got[0].FirstSeen.Equal(t0) {
			t.Errorf("lebanon items = %+v, want the corrected item first seen at %v", got, t0)
		}
		// iran lost its only item and no feed is configured with it.
		got, err = db.Items(ctx, feedmux.ItemFilter{Tags: []string{"iran"}})
		if !errors.Is(err, feedmux.ErrUnknownTag) {
			t.Errorf("Items(iran) = %v, %v; want ErrUnknownTag after the item lost the tag", keys(got), err)
		}
	})

	t.Run("unknown tag", func(t *testing.T) {
		_, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"nope"}})
		if !errors.Is(err, feedmux.ErrUnknownTag) {
			t.Errorf("Items(nope) error = %v, want ErrUnknownTag", err)
		}
		// A configured tag is known before any item carries it.
		if err := db.SyncFeeds(ctx, []feedmux.Feed{feed, {URL: "https://b.example/", Tags: []string{"empty-yet"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"empty-yet"}}); err != nil {
			t.Errorf("Items(configured tag without items) error = %v, want nil", err)
		}
	})

	t.Run("all items and limit", func(t *testing.T) {
		got, err := db.Items(ctx, feedmux.ItemFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"3", "2"}, keys(got)); diff != "" {
			t.Errorf("all items (-want +got):\n%s", diff)
		}
	})

	t.Run("tag counts", func(t *testing.T) {
		got, err := db.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []feedmux.TagCount{
			{Tag: "empty-yet"},
			{Tag: "lebanon", Items: 1, Updated: t0.Add(-3 * time.Hour)},
			{Tag: "world", Items: 3, Updated: t0},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tags (-want +got):\n%s", diff)
		}
	})

	t.Run("feed state", func(t *testing.T) {
		got, err := db.FeedState(ctx, feed.URL)
		if err != nil {
			t.Fatal(err)
		}
		want := st
		want.Items = 3
		want.LastNewItem = t0
		want.ConfigTitle, want.Tags = "A", []string{"world"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FeedState (-want +got):\n%s", diff)
		}
		if _, err := db.FeedState(ctx, "https://unknown.example/"); !errors.Is(err, feedmux.ErrFeedNotFound) {
			t.Errorf("FeedState(unknown) error = %v, want ErrFeedNotFound", err)
		}
	})
}

func TestDB_SyncFeeds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	a := feedmux.Feed{URL: "https://a.example/rss", Tags: []string{"x"}}
	b := feedmux.Feed{URL: "https://b.example/rss"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{item("1", "One", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{b}); err != nil {
		t.Fatal(err)
	}
	states, err := db.FeedStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].URL != b.URL {
		t.Errorf("FeedStates after removing a = %+v, want only b", states)
	}
	// The removed feed's items stay.
	got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"x"}})
	if err != nil || len(got) != 1 {
		t.Errorf("Items(x) = %v, %v; want the removed feed's item kept", keys(got), err)
	}
}

func TestOpen_Reopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "feedmux.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/"}, []feedmux.Item{item("1", "One", t0)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, path) // migrations already applied: must be a no-op
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Items(ctx, feedmux.ItemFilter{})
	if err != nil || len(got) != 1 {
		t.Errorf("Items after reopen = %v, %v; want one item", keys(got), err)
	}
}

func TestOpen_Memory(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded, want an error: pooled connections would not share it")
	}
}

func TestDB_ConcurrentReadWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	errc := make(chan error, 2)
	go func() {
		for i := range 50 {
			it := item(time.Duration(i).String(), "t", t0.Add(time.Duration(i)*time.Minute), "x")
			if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/"}, []feedmux.Item{it}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	go func() {
		for range 50 {
			if _, err := db.Items(ctx, feedmux.ItemFilter{}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func TestDB_SyncFeeds_Gone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	f := feedmux.Feed{URL: "https://a.example/rss", Tags: []string{"x"}, Interval: time.Hour}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	gone := feedmux.FeedState{URL: f.URL, Gone: true, LastStatus: 410, Errors: 1, NextCheck: t0.Add(time.Hour)}
	if _, err := db.SaveItems(ctx, gone, nil); err != nil {
		t.Fatal(err)
	}
	state := func() feedmux.FeedState {
		t.Helper()
		st, err := db.FeedState(ctx, f.URL)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	if st := state(); !st.Gone {
		t.Errorf("an unchanged configuration revived a gone feed: %+v", st)
	}
	f.Tags = []string{"x", "y"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.Gone || !st.NextCheck.IsZero() {
		t.Errorf("a changed configuration left the feed gone or not due: %+v", st)
	}
}

func TestDB_ItemPage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	var items []feedmux.Item
	for i := range 7 {
		tags := []string{"a"}
		switch i % 3 {
		case 1:
			tags = []string{"a", "b"}
		case 2:
			tags = []string{"b", "private"}
		}
		// Items 5 and 6 share a time: the row id breaks the tie.
		at := t0.Add(-time.Duration(min(i, 5)) * time.Hour)
		items = append(items, item(string(rune('0'+i)), "T", at, tags...))
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
		t.Fatal(err)
	}
	walk := func(t *testing.T, f feedmux.ItemFilter) []string {
		var got []string
		for range 10 {
			page, err := db.ItemPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > f.Limit {
				t.Fatalf("page of %d items, limit %d", len(page.Items), f.Limit)
			}
			got = append(got, keys(page.Items)...)
			if page.Next.IsZero() {
				return got
			}
			f.Before = page.Next
		}
		t.Fatal("paging does not end")
		return nil
	}
	for _, tc := range []struct {
		name   string
		filter feedmux.ItemFilter
		want   []string
	}{
		{"one tag", feedmux.ItemFilter{Tags: []string{"a"}, Limit: 2}, []string{"0", "1", "3", "4", "6"}},
		{"two tags, each item once", feedmux.ItemFilter{Tags: []string{"a", "b"}, Limit: 3}, []string{"0", "1", "2", "3", "4", "6", "5"}},
		{"every item", feedmux.ItemFilter{Limit: 4}, []string{"0", "1", "2", "3", "4", "6", "5"}},
		{"every item but the private ones", feedmux.ItemFilter{Exclude: []string{"private"}, Limit: 2}, []string{"0", "1", "3", "4", "6"}},
		{"tag without the private ones", feedmux.ItemFilter{Tags: []string{"b"}, Exclude: []string{"private"}, Limit: 1}, []string{"1", "4"}},
		{"one page holds all", feedmux.ItemFilter{Tags: []string{"b"}, Limit: 50}, []string{"1", "2", "4", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, walk(t, tc.filter)); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("cursor round trip", func(t *testing.T) {
		c := feedmux.Cursor{Time: 1711454400, ID: 42}
		got, err := feedmux.ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCursor(%q) = %v, %v", c.String(), got, err)
		}
		for _, bad := range []string{"", "x", "1-", "-1", "1-0", "1-2-3", "a-b"} {
			if _, err := feedmux.ParseCursor(bad); err == nil {
				t.Errorf("ParseCursor(%q) succeeded", bad)
			}
		}
	})
}

func TestDB_SameArticleTwoFeeds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
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

func TestDB_Stories(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
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
	if _, err := db.SaveGrouping(ctx, feedmux.Grouping{Stories: map[int64]int64{id["b"]: id["d"]}, Merged: map[int64]int64{id["d"]: id["a"]}}); err != nil {
		t.Fatal(err)
	}
	page, err := db.StoryPage(ctx, feedmux.ItemFilter{Tags: []string{"world"}})
	if err != nil || len(page.Stories) != 1 || page.Stories[0].ID != id["a"] || len(page.Stories[0].Items) != 5 {
		t.Errorf("after the merge: %+v, %v; want one story of five items named by a", page.Stories, err)
	}
}

func TestDB_Retag(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
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

func TestDB_Retention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	db.Retention = feedmux.Retention{MaxAge: 48 * time.Hour, MaxItemsPerFeed: 10}
	a := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	b := feedmux.Feed{URL: "https://b.example/rss", Title: "B"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	stored := func(feed string) []string {
		t.Helper()
		var ks []string
		items, err := db.Items(ctx, feedmux.ItemFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Source.URL == feed {
				ks = append(ks, it.Key)
			}
		}
		slices.Sort(ks)
		return ks
	}
	// A source that keeps publishing: each poll lists its 15 newest.
	removed := map[string]bool{}
	for poll := range 6 {
		var items []feedmux.Item
		for i := poll * 5; i < poll*5+15; i++ {
			items = append(items, item(fmt.Sprintf("%03d", i), "T", t0.Add(time.Duration(i)*time.Minute), "world"))
		}
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, items); err != nil {
			t.Fatal(err)
		}
		keys := stored(a.URL)
		if len(keys) > 10 {
			t.Fatalf("poll %d: %d items stored, limit 10", poll, len(keys))
		}
		for _, k := range keys {
			if removed[k] {
				t.Fatalf("poll %d: removed item %s came back", poll, k)
			}
		}
		for _, it := range items {
			if !slices.Contains(keys, it.Key) {
				removed[it.Key] = true
			}
		}
	}

	// Age: B's article is old; A's copy of it inherits its place.
	old := item("old", "Old", t0.Add(-72*time.Hour), "archive")
	old.URL = "https://news.example/shared"
	old.FirstSeen = t0.Add(-72 * time.Hour) // age counts from when it was first seen
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: b.URL}, []feedmux.Item{old}); err != nil {
		t.Fatal(err)
	}
	fresh := item("copy", "Copy", t0.Add(time.Hour), "world")
	fresh.URL = "https://news.example/shared"
	db.Retention.MaxItemsPerFeed = 0
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{fresh}); err != nil {
		t.Fatal(err)
	}
	res, err := db.Prune(ctx, feedmux.Retention{MaxAge: 48 * time.Hour, MaxItemsPerFeed: 10}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 2 || !slices.Contains(res.Tags, "archive") {
		t.Errorf("Prune = %+v, want B's old item and A's eleventh removed, tags with archive", res)
	}
	if got := stored(b.URL); len(got) != 0 {
		t.Errorf("B still holds %v", got)
	}
	if items, _ := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"archive"}}); len(items) != 1 || items[0].Key != "copy" {
		t.Errorf("the copy did not inherit the removed first's place: %+v", items)
	}
	if r, _ := db.SaveItems(ctx, feedmux.FeedState{URL: b.URL}, []feedmux.Item{old}); r.Inserted != 0 {
		t.Errorf("a removed item was stored again: %+v", r)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestDB_Activity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	items := []feedmux.Item{
		item("today", "T", t0.Add(-time.Hour), "world"),
		item("today2", "T", t0, "world", "iran"),
		item("yesterday", "T", t0.Add(-25*time.Hour), "world"),
		item("old", "T", t0.Add(-20*24*time.Hour), "world"),
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
		t.Fatal(err)
	}
	tags, err := db.TagActivity(ctx, t0, 14)
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := db.FeedActivity(ctx, t0, 14)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 14)
	want[13], want[12] = 2, 1
	if !slices.Equal(tags["world"], want) || !slices.Equal(feeds[feed.URL], want) || tags["iran"][13] != 1 {
		t.Errorf("TagActivity = %v, FeedActivity = %v, want world and the feed %v", tags, feeds, want)
	}
}

// BenchmarkSaveItems stores one poll of a 50-item feed: new items each
// time, as a busy source brings them.
func BenchmarkSaveItems(b *testing.B) {
	ctx := b.Context()
	db := mustOpen(b, "")
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		items := make([]feedmux.Item, 50)
		for i := range items {
			n++
			items[i] = item(fmt.Sprint(n), "Title of the item", t0.Add(time.Duration(n)*time.Second), "world", "news")
			items[i].Content = strings.Repeat("<p>Body text of the item. </p>", 30)
		}
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkItemPage reads the newest 50 items of a tag among 5,000, as a
// render after a change does.
func BenchmarkItemPage(b *testing.B) {
	ctx := b.Context()
	db := mustOpen(b, "")
	var feeds []feedmux.Feed
	for f := range 20 {
		feeds = append(feeds, feedmux.Feed{URL: fmt.Sprintf("https://f%d.example/rss", f), Title: "F"})
	}
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		b.Fatal(err)
	}
	for f, feed := range feeds {
		var items []feedmux.Item
		for i := range 250 {
			it := item(fmt.Sprintf("%d-%d", f, i), "Title of the item", t0.Add(time.Duration(f*250+i)*time.Second), fmt.Sprintf("t%d", f%5))
			it.Content = strings.Repeat("<p>Body text of the item. </p>", 40)
			items = append(items, it)
		}
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		page, err := db.ItemPage(ctx, feedmux.ItemFilter{Tags: []string{"t1"}, Limit: 50})
		if err != nil || len(page.Items) != 50 {
			b.Fatal(len(page.Items), err)
		}
	}
}
