package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// sharedStore is a store several pollers share, as processes share a
// PostgreSQL database: claims by instance, ended by saving the poll.
type sharedStore struct {
	*sqlite.DB
	mu     sync.Mutex
	claims map[string]claimRec
}

type claimRec struct {
	instance string
	until    time.Time
}

func (s *sharedStore) ClaimFeed(ctx context.Context, c feedmux.FeedClaim) (bool, time.Time, error) {
	url, instance, now, lease := c.URL, c.Instance, c.Now, c.Lease
	st, err := s.FeedState(ctx, url)
	if err != nil && !errors.Is(err, feedmux.ErrFeedNotFound) {
		return false, time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if held, ok := s.claims[url]; ok && held.instance != instance && now.Before(held.until) {
		return false, held.until, nil
	}
	if st.NextCheck.After(now) {
		return false, st.NextCheck, nil
	}
	s.claims[url] = claimRec{instance, now.Add(lease)}
	return true, time.Time{}, nil
}

func (s *sharedStore) SaveItems(ctx context.Context, st feedmux.FeedState, items []feedmux.Item) (feedmux.SaveResult, error) {
	res, err := s.DB.SaveItems(ctx, st, items)
	s.mu.Lock()
	delete(s.claims, st.URL)
	s.mu.Unlock()
	return res, err
}

func (s *sharedStore) ReleaseClaims(_ context.Context, instance string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for url, c := range s.claims {
		if c.instance == instance {
			delete(s.claims, url)
		}
	}
	return nil
}

var _ feedmux.FeedClaimer = (*sharedStore)(nil)

// TestPoller_SharedStore: two pollers on one shared store poll a due feed
// once between them; the other takes the stored schedule; a claim of a
// process that died holds the feed until it ends, then another polls it.
func TestPoller_SharedStore(t *testing.T) {
	var requests atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>S</title><item><title>Report %d</title><link>https://s.example/%d</link></item></channel></rss>`, n, n)
	}))
	t.Cleanup(src.Close)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &sharedStore{DB: db, claims: map[string]claimRec{}}
	now := time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db.Now = clock
	feed := feedmux.Feed{URL: src.URL, Interval: 10 * time.Minute}
	if err := db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	pollers := map[string]*Poller{}
	for _, name := range []string{"a", "b"} {
		p := NewPoller(store, NewFetcher(FetcherConfig{}), slog.New(slog.DiscardHandler))
		p.Instance, p.Now = name, clock
		pollers[name] = p
	}
	run := func(name string, wantRequests int32) job {
		t.Helper()
		next := pollers[name].pollJob(t.Context(), job{feed: feed, due: now}, now)
		if n := requests.Load(); n != wantRequests {
			t.Fatalf("at %s, instance %s: %d requests to the source, want %d", now.Format(time.TimeOnly), name, n, wantRequests)
		}
		return next
	}

	polled := run("a", 1)
	if !polled.due.After(now) {
		t.Fatalf("a's next poll %v, want after %v", polled.due, now)
	}
	if later := run("b", 1); !later.due.Equal(polled.due) {
		t.Errorf("b, after a polled: asks again at %v, want the stored next check %v", later.due, polled.due)
	}
	now = polled.due
	run("b", 2)

	// A process that claimed the feed and died holds it until its claim ends.
	st, _ := db.FeedState(t.Context(), feed.URL)
	now = st.NextCheck
	store.claims[feed.URL] = claimRec{"dead", now.Add(time.Minute)}
	if later := run("a", 2); !later.due.Equal(now.Add(time.Minute)) {
		t.Errorf("a, while the dead claim holds: asks again at %v, want its end %v", later.due, now.Add(time.Minute))
	}
	now = now.Add(time.Minute)
	run("a", 3)
	if len(store.claims) != 0 {
		t.Errorf("claims left after the polls were saved: %v", store.claims)
	}
}
