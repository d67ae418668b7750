package aggregator_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// growingSources serves n RSS feeds at /0 … /n-1 whose items are all
// kept in the document, each about 4 KB; grow adds k items to each.
type growingSources struct {
	*httptest.Server
	mu        sync.Mutex
	items     []int
	requests  atomic.Int64
	inFlight  atomic.Int64
	maxAtOnce atomic.Int64
}

func newGrowingSources(t *testing.T, n, items int) *growingSources {
	gs := &growingSources{items: make([]int, n)}
	for i := range gs.items {
		gs.items[i] = items
	}
	gs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs.requests.Add(1)
		now := gs.inFlight.Add(1)
		defer gs.inFlight.Add(-1)
		for m := gs.maxAtOnce.Load(); now > m && !gs.maxAtOnce.CompareAndSwap(m, now); m = gs.maxAtOnce.Load() {
		}
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		gs.mu.Lock()
		count := gs.items[i]
		gs.mu.Unlock()
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Source %d</title><link>http://s%d.test/</link><description>d</description>`, i, i)
		for k := range count {
			fmt.Fprintf(&b, `<item><title>Report %d of source %d</title><link>http://s%d.test/%d</link><description>%s</description></item>`,
				k, i, i, k, strings.Repeat("Words of the report, ", 200))
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, count))
		if r.Header.Get("If-None-Match") == fmt.Sprintf(`"%d"`, count) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(gs.Close)
	return gs
}

func (gs *growingSources) grow(k int) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for i := range gs.items {
		gs.items[i] += k
	}
}

// TestRun_StorageFault: when the database cannot be written (its size
// limit reached, as a full disk would be), polls count as storage errors,
// no feed's error count, backoff, validators or schedule move, polling
// holds back to one trial poll at a time, and once writes succeed again
// every item the sources hold is stored, once.
func TestRun_StorageFault(t *testing.T) {
	const n = 6
	src := newGrowingSources(t, n, 3)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{UserAgent: "feedmux-test"}), slog.New(slog.DiscardHandler))
	p.SetIntervals(time.Second, time.Hour)
	p.StorageRetry = 100 * time.Millisecond
	var storageErrors, otherErrors atomic.Int64
	p.OnPoll = func(_ feedmux.Feed, _ aggregator.Result, err error, _ time.Duration) {
		switch {
		case aggregator.ErrorKind(err) == "storage":
			storageErrors.Add(1)
		case err != nil:
			otherErrors.Add(1)
		}
	}
	var feeds []feedmux.Feed
	for i := range n {
		feeds = append(feeds, feedmux.Feed{URL: src.URL + "/" + strconv.Itoa(i), Interval: time.Second, Tags: []string{"x"}})
	}
	p.SetFeeds(feeds)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		p.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-ran })

	stored := func(want int) func() bool {
		return func() bool {
			states, err := db.FeedStates(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range states {
				if st.Items != want {
					return false
				}
			}
			return len(states) == n
		}
	}
	eventually(t, "the first items of every feed", stored(3))
	before, err := db.FeedStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	// No room to grow: SQLite holds a limit below the database's pages at
	// its pages. (Size would count the write-ahead log too, and leave room.)
	if err := db.SetMaxSize(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	src.grow(100) // 400 KB more per feed: far beyond the limit
	eventually(t, "a storage fault", func() bool { return db.WriteHealth().Err != nil })
	faultAt, requestsAt, errorsAt := time.Now(), src.requests.Load(), storageErrors.Load()
	eventually(t, "several trial polls", func() bool { return storageErrors.Load() >= errorsAt+5 })
	paused, requests := time.Since(faultAt), src.requests.Load()-requestsAt
	// Polls that had started when the fault came may still ask once each;
	// after them, one trial every StorageRetry.
	if max := int64(paused/p.StorageRetry) + 1 + n; requests > max {
		t.Errorf("%d requests to the sources in the %s the database could not be written; want one trial every %s, at most %d", requests, paused.Round(time.Millisecond), p.StorageRetry, max)
	}
	src.maxAtOnce.Store(0)
	eventually(t, "more trial polls", func() bool { return storageErrors.Load() >= errorsAt+8 })
	if m := src.maxAtOnce.Load(); m > 1 {
		t.Errorf("%d requests at once while paused, want one trial poll at a time", m)
	}
	after, err := db.FeedStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range after {
		if st.Errors != 0 || st.LastError != "" || st.ETag != before[i].ETag || !st.NextCheck.Equal(before[i].NextCheck) || st.Items != 3 {
			t.Errorf("feed %s during the fault: errors %d %q, ETag %s (was %s), next check %s (was %s), %d items; want it as it was",
				st.URL, st.Errors, st.LastError, st.ETag, before[i].ETag, st.NextCheck, before[i].NextCheck, st.Items)
		}
	}

	if err := db.SetMaxSize(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every item stored once writes succeed", stored(103))
	if h := db.WriteHealth(); h.Err != nil {
		t.Errorf("write health after recovery: %v", h.Err)
	}
	if n := otherErrors.Load(); n > 0 {
		t.Errorf("%d polls failed for another reason than storage", n)
	}
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
}
