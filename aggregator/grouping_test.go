package aggregator

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// TestPoll_DoesNotWaitForGrouping: with the grouper held busy, a poll
// stores its new items and returns; they wait for grouping in the
// database, and GroupPending places them once the grouper is free.
func TestPoll_DoesNotWaitForGrouping(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>S</title><link>http://s.test/</link><description>d</description>
<item><title>Heartbleed bug puts Yahoo passwords at risk</title><link>http://s.test/1</link></item>
<item><title>Yahoo users urged to change passwords after Heartbleed</title><link>http://s.test/2</link></item>
<item><title>Council approves new budget for schools</title><link>http://s.test/3</link></item>
</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := NewPoller(db, NewFetcher(FetcherConfig{UserAgent: "feedmux-test"}), slog.New(slog.DiscardHandler))
	p.Stories = NewGrouper(DefaultStoryConfig)

	p.Stories.mu.Lock() // the grouper is busy
	polled := make(chan error, 1)
	go func() {
		_, err := p.Poll(t.Context(), feedmux.Feed{URL: srv.URL, Interval: time.Hour})
		polled <- err
	}()
	select {
	case err := <-polled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // only a poll that waits for the grouper gets here
		p.Stories.mu.Unlock()
		t.Fatal("the poll waited for the grouper")
	}
	if n, err := db.UngroupedCount(t.Context()); err != nil || n != 3 {
		t.Errorf("%d items wait for grouping (%v), want the poll's 3", n, err)
	}
	p.Stories.mu.Unlock()

	if n, err := p.GroupPending(t.Context()); err != nil || n != 3 {
		t.Fatalf("GroupPending grouped %d (%v), want 3", n, err)
	}
	if n, _ := db.UngroupedCount(t.Context()); n != 0 {
		t.Errorf("%d items still wait after GroupPending", n)
	}
	if p.Stories.Len() != 3 {
		t.Errorf("the grouper holds %d items, want 3", p.Stories.Len())
	}
}
