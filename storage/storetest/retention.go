package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

func testRetention(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, retention := open(t)
	*retention = feedmux.Retention{MaxAge: 48 * time.Hour, MaxItemsPerFeed: 10}
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
	retention.MaxItemsPerFeed = 0
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
