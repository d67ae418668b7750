package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// bulk is n items of about 4 KB each, numbered from first.
func bulk(first, n int) []feedmux.Item {
	items := make([]feedmux.Item, n)
	for i := range items {
		k := fmt.Sprint(first + i)
		items[i] = feedmux.Item{Key: k, GUID: k, URL: "https://a.example/" + k, Title: "Item " + k,
			Content:   "<p>" + strings.Repeat("words of the item "+k+" ", 200) + "</p>",
			Published: t0.Add(time.Duration(first+i) * time.Minute), Tags: []string{"world"}}
	}
	return items
}

// TestDB_WriteHealth: when the database takes no writes (read-only, as a
// standby or a server out of disk would be), a save fails with
// feedmux.ErrStorage, stores nothing of the poll, and WriteHealth says so;
// once writes succeed again, it is clear and nothing is lost.
func TestDB_WriteHealth(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	db := mustOpen(t, url)
	st := feedmux.FeedState{URL: "https://a.example/rss", ETag: `"v1"`, LastPoll: t0, NextCheck: t0.Add(time.Hour)}
	if _, err := db.SaveItems(ctx, st, bulk(0, 10)); err != nil {
		t.Fatal(err)
	}
	if h := db.WriteHealth(); h.Err != nil || h.Failures != 0 {
		t.Fatalf("write health after a good save: %+v", h)
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	readOnly := func(on bool) {
		t.Helper()
		if _, err := admin.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I SET default_transaction_read_only = %t',
			current_database()); END $$`, on)); err != nil {
			t.Fatal(err)
		}
		db.Reconnect() // the setting holds for new sessions
	}
	readOnly(true)

	next := st
	next.ETag, next.NextCheck = `"v2"`, t0.Add(2*time.Hour)
	if _, err := db.SaveItems(ctx, next, bulk(10, 200)); !errors.Is(err, feedmux.ErrStorage) {
		t.Fatalf("save to a read-only database: %v, want feedmux.ErrStorage", err)
	}
	h := db.WriteHealth()
	if !errors.Is(h.Err, feedmux.ErrStorage) || h.Since.IsZero() || h.Failures != 1 {
		t.Errorf("write health after a failed save: %+v", h)
	}
	got, err := db.FeedState(ctx, st.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != `"v1"` || !got.NextCheck.Equal(st.NextCheck) || got.Items != 10 {
		t.Errorf("after the failed save the feed is %+v; want its state and 10 items as before", got)
	}

	readOnly(false)
	if _, err := db.SaveItems(ctx, next, bulk(10, 200)); err != nil {
		t.Fatalf("save once writable again: %v", err)
	}
	if h := db.WriteHealth(); h.Err != nil || !h.Since.IsZero() || h.Failures != 1 {
		t.Errorf("write health after writes succeed again: %+v", h)
	}
	if got, _ := db.FeedState(ctx, st.URL); got.Items != 210 || got.ETag != `"v2"` {
		t.Errorf("after the retry the feed has %d items and ETag %s, want 210 and \"v2\"", got.Items, got.ETag)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestDB_Text: what PostgreSQL's text cannot hold, NUL and invalid UTF-8,
// does not fail a poll: NUL is dropped, invalid bytes become U+FFFD.
func TestDB_Text(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, pgtest.URL(t))
	it := feedmux.Item{Key: "k", Title: "a\x00b", Content: "<p>caf\xe9</p>", Published: t0}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/rss"}, []feedmux.Item{it}); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(ctx, feedmux.ItemFilter{})
	if err != nil || len(items) != 1 || items[0].Title != "ab" || items[0].Content != "<p>caf\uFFFD</p>" {
		t.Errorf("read back: %+v, %v", items, err)
	}
}
