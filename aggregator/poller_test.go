package aggregator_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/sqlite"
)

var t0 = time.Date(2024, 3, 26, 12, 0, 0, 0, time.UTC)

func rss(items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title><link>http://site.test/</link><description>d</description>`)
	for _, title := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://site.test/%s</link><pubDate>Tue, 26 Mar 2024 10:00:00 +0000</pubDate><category>World News</category></item>`, title, url.PathEscape(title))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func newPoller(t testing.TB) (*aggregator.Poller, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	f := aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: 5 * time.Second, UserAgent: "feedmux-test"})
	f.Now = func() time.Time { return t0 }
	p := aggregator.NewPoller(db, f, slog.New(slog.DiscardHandler))
	p.Now = func() time.Time { return t0 }
	return p, db
}

func TestPoller_Poll(t *testing.T) {
	t.Parallel()
	var (
		body     atomic.Value
		requests atomic.Int64
	)
	body.Store(rss("One", "Two"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if ua := r.Header.Get("User-Agent"); ua != "feedmux-test" {
			t.Errorf("User-Agent = %q", ua)
		}
		etag := fmt.Sprintf(`"%d"`, len(body.Load().(string)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	var changed []string
	p.OnChange = func(tags []string) { changed = tags }
	feed := feedmux.Feed{URL: srv.URL + "/feed", Tags: []string{"world"}, Interval: time.Hour, Categories: true}

	res, err := p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Inserted != 2 || !res.NextCheck.Equal(t0.Add(time.Hour)) {
		t.Errorf("first poll = %+v, want 200, 2 inserted, next check in an hour", res)
	}
	if strings.Join(changed, ",") != "world,world-news" {
		t.Errorf("OnChange got %v, want [world world-news]", changed)
	}

	changed = nil
	res, err = p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 304 || res.Inserted != 0 || changed != nil {
		t.Errorf("unchanged poll = %+v (OnChange %v), want a 304 that changes nothing", res, changed)
	}

	body.Store(rss("Three", "One", "Two"))
	res, err = p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Inserted != 1 || res.Updated != 0 {
		t.Errorf("poll with one new item = %+v, want 200 with 1 inserted", res)
	}
	items, err := db.Items(t.Context(), feedmux.ItemFilter{Tags: []string{"world"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Errorf("%d items stored, want 3", len(items))
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestPoller_Failure(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(rss("One")))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	feed := feedmux.Feed{URL: srv.URL, Interval: time.Minute}
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}

	fail.Store(true)
	var gaps []time.Duration
	for n := 1; n <= 4; n++ {
		res, err := p.Poll(t.Context(), feed)
		if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "500") {
			t.Fatalf("failing poll error = %v, want one naming the feed and the status", err)
		}
		gaps = append(gaps, res.NextCheck.Sub(t0))
		st, err := db.FeedState(t.Context(), feed.URL)
		if err != nil {
			t.Fatal(err)
		}
		if st.Errors != n || st.LastStatus != 500 || !strings.Contains(st.LastError, "500") {
			t.Errorf("state after %d failures = %+v", n, st)
		}
	}
	for i, g := range gaps {
		nominal := time.Minute << i
		if g > nominal || g < nominal*9/10 {
			t.Errorf("backoff after %d failures = %s, want %s less up to 10%% jitter", i+1, g, nominal)
		}
	}

	fail.Store(false)
	res, err := p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := db.FeedState(t.Context(), feed.URL)
	if st.Errors != 0 || st.LastError != "" || !res.NextCheck.Equal(t0.Add(time.Minute)) {
		t.Errorf("after recovery: state %+v, next %v", st, res.NextCheck)
	}
	items, _ := db.Items(t.Context(), feedmux.ItemFilter{})
	if len(items) != 1 {
		t.Errorf("%d items after failures, want the 1 stored before", len(items))
	}
}

func TestPoller_BadDocuments(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		"/html":  "<!doctype html><html><head><title>x</title></head><body>login</body></html>",
		"/empty": "",
		"/junk":  "this is not a feed",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	for path := range docs {
		feed := feedmux.Feed{URL: srv.URL + path, Interval: time.Minute}
		if _, err := p.Poll(t.Context(), feed); err == nil {
			t.Errorf("Poll(%s) succeeded, want an error", path)
		}
		st, err := db.FeedState(t.Context(), feed.URL)
		if err != nil {
			t.Fatal(err)
		}
		if st.Errors != 1 || st.LastError == "" {
			t.Errorf("state of %s = %+v, want the error recorded", path, st)
		}
	}
}

func TestPoller_BodyCap(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(rss(strings.Repeat("x", 4096))))
	}))
	defer srv.Close()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{MaxBody: 1024}), slog.New(slog.DiscardHandler))
	_, err = p.Poll(t.Context(), feedmux.Feed{URL: srv.URL, Interval: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "body too large") {
		t.Errorf("Poll of an oversized body: %v, want body too large", err)
	}
}

func TestPoller_Run(t *testing.T) {
	t.Parallel()
	const feeds, concurrency = 12, 3
	var (
		mu             sync.Mutex
		inFlight, peak int
		release        = make(chan struct{})
		polled         = make(chan string, feeds)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Write([]byte(rss("Item of " + r.URL.Path)))
		polled <- r.URL.Path
	}))
	defer srv.Close()
	defer close(release)
	p, db := newPoller(t)
	p.Now = time.Now
	p.Concurrency = concurrency
	var list []feedmux.Feed
	for i := range feeds {
		list = append(list, feedmux.Feed{URL: fmt.Sprintf("%s/%d", srv.URL, i), Interval: time.Hour})
	}
	p.SetFeeds(list)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	seen := map[string]bool{}
	for len(seen) < feeds {
		release <- struct{}{}
		seen[<-polled] = true
	}
	waitPolled(t, db, feeds)
	mu.Lock()
	if peak > concurrency {
		t.Errorf("%d polls in flight at once, want at most %d", peak, concurrency)
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	states, err := db.FeedStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.LastPoll.IsZero() {
			t.Errorf("feed %s never polled", st.URL)
		}
	}
	if len(states) != feeds {
		t.Errorf("%d feeds recorded, want %d", len(states), feeds)
	}
}

// eventually polls cond until it holds; the deadline only stops a hung test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// waitPolled waits until n feeds have a recorded poll.
func waitPolled(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d feeds polled", n), func() bool {
		states, err := db.FeedStates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, st := range states {
			if !st.LastPoll.IsZero() {
				done++
			}
		}
		return done == n
	})
}

// TestPoller_RelativeURLs: relative references in links, enclosures and
// item HTML are stored absolute, against the item's link, xml:base or the
// feed URL, and the stored HTML is already safe.
func TestPoller_RelativeURLs(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		"/feeds/news.rss": `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>/</link><description>d</description>
<item><title>With link</title><link>/2024/story.html</link><guid isPermaLink="false">1</guid>
<description><![CDATA[<a href="other.html" onclick="x()">o</a><img src="../img/a.png"><script>bad()</script>]]></description>
<enclosure url="media/ep.mp3" length="1" type="audio/mpeg"/></item>
<item><title>Without link</title><guid isPermaLink="false">2</guid><description><![CDATA[<a href="x.html">x</a>]]></description></item>
</channel></rss>`,
		"/feeds/blog.atom": `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/blog/">
<title>B</title><id>tag:b,2024:f</id><updated>2024-03-26T10:00:00Z</updated>
<entry><title>E</title><id>tag:b,2024:1</id><updated>2024-03-26T10:00:00Z</updated>
<content type="html">&lt;a href="post.html"&gt;p&lt;/a&gt;</content></entry></feed>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	for path, tag := range map[string]string{"/feeds/news.rss": "news", "/feeds/blog.atom": "blog"} {
		feed := feedmux.Feed{URL: srv.URL + path, Tags: []string{tag}}
		if err := db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Poll(t.Context(), feed); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]feedmux.Item{}
	for _, tag := range []string{"news", "blog"} {
		items, err := db.Items(t.Context(), feedmux.ItemFilter{Tags: []string{tag}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got[it.Title] = it
		}
	}
	for title, want := range map[string]string{
		"With link":    `<a href="` + srv.URL + `/2024/other.html" rel="noopener noreferrer">o</a><img src="` + srv.URL + `/img/a.png"/>`,
		"Without link": `<a href="` + srv.URL + `/feeds/x.html" rel="noopener noreferrer">x</a>`,
		"E":            `<a href="https://base.example/blog/post.html" rel="noopener noreferrer">p</a>`,
	} {
		it := got[title]
		if html := it.Summary + it.Content; html != want {
			t.Errorf("%s: stored HTML %q, want %q", title, html, want)
		}
	}
	if it := got["With link"]; it.URL != srv.URL+"/2024/story.html" || len(it.Enclosures) != 1 || it.Enclosures[0].URL != srv.URL+"/feeds/media/ep.mp3" {
		t.Errorf("link %q, enclosures %+v: want both absolute", it.URL, it.Enclosures)
	}
}
