package aggregator

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// TestPages_Retries: a page that fails is tried again after a minute, then
// after ten, and given up after the third failure; one that answers on the
// third attempt is stored then. An item is stored at once, with its feed's
// text, and never waits for its page.
func TestPages_Retries(t *testing.T) {
	t.Parallel()
	var flaky, broken atomic.Int32
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rss":
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>%[1]s/</link><description>d</description>
<item><title>Flaky</title><link>%[1]s/flaky</link><description>Feed text of flaky.</description></item>
<item><title>Broken</title><link>%[1]s/broken</link><description>Feed text of broken.</description></item></channel></rss>`, srvURL)
		case "/flaky":
			if flaky.Add(1) < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body><article><p>`+strings.Repeat("The whole flaky article, at last. ", 20)+`</p></article></body></html>`)
		case "/broken":
			broken.Add(1)
			http.Error(w, "down", http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2024, 3, 26, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	p := NewPoller(db, NewFetcher(FetcherConfig{}), slog.New(slog.DiscardHandler))
	p.Now = func() time.Time { return now }
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	p.Pages = NewPages(NewFetcher(FetcherConfig{Guard: NewGuard(loopback)}), []string{"127.0.0.1/32"}, 2)
	var fetched, failed atomic.Int32
	p.Pages.OnPage = func(_ feedmux.Feed, ok bool, _ time.Duration) {
		if ok {
			fetched.Add(1)
		} else {
			failed.Add(1)
		}
	}
	feed := feedmux.Feed{URL: srv.URL + "/rss", Tags: []string{"x"}, FullContent: true, Categories: true}
	if err := db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	p.feedList.Store(&[]feedmux.Feed{feed})
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	content := func() map[string]string {
		items, err := db.Items(t.Context(), feedmux.ItemFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, it := range items {
			out[it.Title] = it.Content + it.Summary
		}
		return out
	}
	if c := content(); !strings.Contains(c["Flaky"], "Feed text of flaky.") || len(c) != 2 {
		t.Fatalf("before any page: %v, want both items with their feed's text", c)
	}
	// Attempts at +0, +1 min and +11 min.
	for i, step := range []time.Duration{0, time.Minute, 10 * time.Minute} {
		now = now.Add(step)
		if jobs, _ := db.DuePages(t.Context(), now.Add(-time.Second), 10); i > 0 && len(jobs) != 0 {
			t.Errorf("attempt %d: %d pages due a second early", i+1, len(jobs))
		}
		jobs, err := db.DuePages(t.Context(), now, 10)
		if err != nil {
			t.Fatal(err)
		}
		p.pageBatch(t.Context(), jobs)
	}
	now = now.Add(24 * time.Hour)
	if jobs, _ := db.DuePages(t.Context(), now, 10); len(jobs) != 0 {
		t.Errorf("%d pages still due a day later, want none: the broken one is given up", len(jobs))
	}
	if n, m := flaky.Load(), broken.Load(); n != 3 || m != 3 {
		t.Errorf("flaky requested %d times and broken %d, want 3 each", n, m)
	}
	c := content()
	if !strings.Contains(c["Flaky"], "The whole flaky article") || !strings.Contains(c["Broken"], "Feed text of broken.") {
		t.Errorf("after the retries: %v, want flaky's article and broken's feed text", c)
	}
	if n, m := fetched.Load(), failed.Load(); n != 1 || m != 5 {
		t.Errorf("OnPage: %d fetched and %d failed, want 1 and 5", n, m)
	}
	st, err := db.FeedState(t.Context(), feed.URL)
	if err != nil || st.Pages.Fetched != 1 || st.Pages.Failed != 1 || st.Pages.Waiting != 0 {
		t.Errorf("the feed's pages %+v (%v), want 1 fetched and 1 given up", st.Pages, err)
	}
}

// TestPages_Unrecorded: a page job whose outcome the database does not take
// (here, closed) is counted as left due, so that runPages waits before it
// tries again instead of fetching the page over and over.
func TestPages_Unrecorded(t *testing.T) {
	t.Parallel()
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rss" {
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>%[1]s/</link><description>d</description>
<item><title>One</title><link>%[1]s/one</link></item></channel></rss>`, srvURL)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><article><p>`+strings.Repeat("The article. ", 40)+`</p></article></body></html>`)
	}))
	defer srv.Close()
	srvURL = srv.URL
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPoller(db, NewFetcher(FetcherConfig{}), slog.New(slog.DiscardHandler))
	p.Pages = NewPages(NewFetcher(FetcherConfig{Guard: NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})}), nil, 1)
	feed := feedmux.Feed{URL: srv.URL + "/rss", Tags: []string{"x"}, FullContent: true}
	if err := db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	p.feedList.Store(&[]feedmux.Feed{feed})
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	jobs, err := db.DuePages(t.Context(), time.Now(), 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("%d jobs due (%v), want 1", len(jobs), err)
	}
	db.Close()
	if n := p.pageBatch(t.Context(), jobs); n != 1 {
		t.Errorf("pageBatch with the database closed: %d jobs left due, want 1", n)
	}
}
