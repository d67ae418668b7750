package storetest

import (
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// testPageOnce: an item of a full_content feed has its page fetched
// once; an edit of the item applies the stored page again without a fetch,
// and only a new link fetches it again. Items of other feeds have none.
func testPageOnce(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	full := feedmux.Feed{URL: "https://full.example/rss", FullContent: true}
	plain := feedmux.Feed{URL: "https://plain.example/rss"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{full, plain}); err != nil {
		t.Fatal(err)
	}
	it := item("a", "A report", t0, "x")
	save := func(f feedmux.Feed, it feedmux.Item) {
		t.Helper()
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: f.URL}, []feedmux.Item{it}); err != nil {
			t.Fatal(err)
		}
	}
	due := func() []feedmux.PageJob {
		t.Helper()
		jobs, err := db.DuePages(ctx, t0.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	save(full, it)
	save(plain, item("b", "Another report", t0, "x"))
	jobs := due()
	if len(jobs) != 1 || jobs[0].Item.Key != "a" || jobs[0].Reapply {
		t.Fatalf("after the first poll: %+v, want a's page to fetch", jobs)
	}
	meta := feedmux.PageMeta{Categories: []string{"Gaza"}}
	page := jobs[0].Item
	page.Categories = append(page.Categories, "Gaza")
	if _, err := db.SavePage(ctx, jobs[0].ID, feedmux.PageUpdate{Article: "<p>The article.</p>", Meta: meta, Item: page}); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(ctx, feedmux.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range items {
		if got.Key == "a" && (got.Content != "<p>The article.</p>" || got.Summary != it.Content) {
			t.Errorf("a read back: content %q, summary %q; want the article, and the feed's text as the summary", got.Content, got.Summary)
		}
	}
	save(full, it)
	if jobs := due(); len(jobs) != 0 {
		t.Errorf("the same item polled again: %+v due, want none", jobs)
	}
	edited := it
	edited.Summary = "An edited summary."
	save(full, edited)
	if jobs := due(); len(jobs) != 1 || !jobs[0].Reapply || jobs[0].Article != "<p>The article.</p>" || len(jobs[0].Meta.Categories) != 1 {
		t.Errorf("the item edited: %+v, want its stored page applied again", jobs)
	}
	moved := edited
	moved.URL = "https://full.example/a-moved"
	save(full, moved)
	if jobs := due(); len(jobs) != 1 || jobs[0].Reapply || jobs[0].Item.URL != moved.URL {
		t.Errorf("the item's link changed: %+v, want its new page to fetch", jobs)
	}
}
