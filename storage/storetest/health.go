package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/feedmux/feedmux"
)

// testCanceledWrite: a write that fails because its context ended says
// nothing of the database: it is not feedmux.ErrStorage, and the write
// health stays clear. (Each store tests a real fault its own way.)
func testCanceledWrite(t *testing.T, open Open) {
	t.Parallel()
	db, _ := open(t)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := db.SaveItems(canceled, feedmux.FeedState{URL: "https://a.example/rss"}, []feedmux.Item{item("a", "A", t0)})
	if !errors.Is(err, context.Canceled) || errors.Is(err, feedmux.ErrStorage) {
		t.Errorf("a canceled save: %v, want context.Canceled and no storage fault", err)
	}
	if h := db.WriteHealth(); h.Err != nil || h.Failures != 0 {
		t.Errorf("write health after a canceled save: %+v, want clear", h)
	}
	if n, err := db.ItemCount(t.Context()); err != nil || n != 0 {
		t.Errorf("%d items after a canceled save (%v), want 0", n, err)
	}
}
