package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// bulk is n items of about 4 KB each, numbered from first.
func bulk(first, n int) []feedmux.Item {
	items := make([]feedmux.Item, n)
	for i := range items {
		k := fmt.Sprint(first + i)
		items[i] = item(k, "Item "+k, t0.Add(time.Duration(first+i)*time.Minute), "world")
		items[i].Content = "<p>" + strings.Repeat("words of the item "+k+" ", 200) + "</p>"
	}
	return items
}

// TestDB_WriteHealth: when the database cannot grow (its size limit, as a
// full disk would), a save fails with feedmux.ErrStorage, stores nothing of
// the poll (neither items nor the feed's new state), and WriteHealth says
// so; once writes succeed again, it is clear and nothing is lost.
func TestDB_WriteHealth(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, "")
	st := feedmux.FeedState{URL: "https://a.example/rss", ETag: `"v1"`, LastPoll: t0, NextCheck: t0.Add(time.Hour)}
	if _, err := db.SaveItems(ctx, st, bulk(0, 10)); err != nil {
		t.Fatal(err)
	}
	if h := db.WriteHealth(); h.Err != nil || h.Failures != 0 {
		t.Fatalf("write health after a good save: %+v", h)
	}
	// No room to grow: SQLite holds a limit below the database's pages at
	// its pages. (Size would count the write-ahead log too, and leave room.)
	if err := db.SetMaxSize(ctx, 1); err != nil {
		t.Fatal(err)
	}

	next := st
	next.ETag, next.NextCheck = `"v2"`, t0.Add(2*time.Hour)
	_, err := db.SaveItems(ctx, next, bulk(10, 200))
	if !errors.Is(err, feedmux.ErrStorage) {
		t.Fatalf("save beyond the size limit: %v, want feedmux.ErrStorage", err)
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
	// A canceled write says nothing of the disk, either way.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.SaveItems(canceled, next, nil); !errors.Is(err, context.Canceled) || errors.Is(err, feedmux.ErrStorage) {
		t.Errorf("a canceled save: %v, want context.Canceled and no storage fault", err)
	}
	if h := db.WriteHealth(); h.Err == nil || h.Failures != 1 {
		t.Errorf("write health after a canceled save: %+v, want the fault still", h)
	}

	if err := db.SetMaxSize(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveItems(ctx, next, bulk(10, 200)); err != nil {
		t.Fatalf("save after the limit was lifted: %v", err)
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
