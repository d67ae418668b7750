package aggregator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// electingStore is a store several processes share whose election the
// test runs: Lead waits for a grant, and a grant's context is revoked
// when the test says.
type electingStore struct {
	*sqlite.DB
	asked  chan struct{}        // Lead was called
	grants chan context.Context // what the next Lead returns
}

func (s *electingStore) Lead(ctx context.Context, role string) (context.Context, error) {
	s.asked <- struct{}{}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case lead := <-s.grants:
		return lead, nil
	}
}

var _ feedmux.Elector = (*electingStore)(nil)

// TestPoller_GroupingLeader: on a shared store, a poller groups stories
// only while it leads; items stored meanwhile wait in the database, and
// when it leads again it loads the window afresh and groups them.
func TestPoller_GroupingLeader(t *testing.T) {
	var items atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>S</title>`)
		for i := range items.Load() {
			fmt.Fprintf(w, "<item><title>Ceasefire talks resume in Cairo, round %d</title><link>https://s.example/%d</link></item>", i, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(src.Close)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &electingStore{DB: db, asked: make(chan struct{}, 4), grants: make(chan context.Context)}
	p := NewPoller(store, NewFetcher(FetcherConfig{}), slog.New(slog.DiscardHandler))
	p.Stories = NewGrouper(DefaultStoryConfig)
	feed := feedmux.Feed{URL: src.URL}
	if err := db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.RunGrouping(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waiting := func() int {
		n, err := db.UngroupedCount(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	poll := func(n int32) {
		items.Store(n)
		if _, err := p.Poll(t.Context(), feed); err != nil {
			t.Fatal(err)
		}
	}

	<-store.asked // not leading yet: what polls store waits
	poll(3)
	if n := waiting(); n != 3 {
		t.Fatalf("%d items wait before the poller leads, want 3", n)
	}
	lead, revoke := context.WithCancel(ctx)
	store.grants <- lead
	until(t, "the leader grouping the waiting items", func() bool { return waiting() == 0 })

	revoke()
	<-store.asked // it asks again once it no longer leads
	poll(5)
	if n := waiting(); n != 2 {
		t.Fatalf("%d items wait while another process leads, want 2", n)
	}
	store.grants <- ctx
	until(t, "grouping after leading again", func() bool { return waiting() == 0 })
	if n := p.Stories.Len(); n != 5 {
		t.Errorf("the window holds %d items after taking over, want the 5 stored", n)
	}
}

// until polls cond with a deadline that only stops a hung test.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}
