package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
	"github.com/feedmux/feedmux/storage/storetest"
)

var t0 = storetest.T0

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
		t.Errorf("Items after reopen = %d items, %v; want one item", len(got), err)
	}
}

func TestOpen_Memory(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded, want an error: pooled connections would not share it")
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

// TestDB runs the store's behaviour tests (storage/storetest) on SQLite.
func TestDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (feedmux.Store, *feedmux.Retention) {
		db := mustOpen(t, "")
		return db, &db.Retention
	})
}
