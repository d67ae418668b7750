package aggregator_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// pollOnce polls a feed served by handler and returns the result, the
// error and the stored state.
func pollOnce(t *testing.T, p *aggregator.Poller, db *sqlite.DB, url string, interval time.Duration) (aggregator.Result, error, feedmux.FeedState) {
	t.Helper()
	res, err := p.Poll(t.Context(), feedmux.Feed{URL: url, Interval: interval, Categories: true})
	st, serr := db.FeedState(t.Context(), url)
	if serr != nil {
		t.Fatal(serr)
	}
	return res, err, st
}

func TestPoller_Conditional(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request, n int) // n counts requests from 1
		check func(t *testing.T, r *http.Request, n int)
	}{
		{
			name: "304 by ETag",
			serve: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(304)
					return
				}
				io.WriteString(w, rss("One"))
			},
			check: func(t *testing.T, r *http.Request, n int) {
				if n > 1 && r.Header.Get("If-None-Match") != `"v1"` {
					t.Errorf("request %d without If-None-Match", n)
				}
			},
		},
		{
			name: "304 by Last-Modified",
			serve: func(w http.ResponseWriter, r *http.Request, n int) {
				lm := "Tue, 26 Mar 2024 10:00:00 GMT"
				w.Header().Set("Last-Modified", lm)
				if r.Header.Get("If-Modified-Since") == lm {
					w.WriteHeader(304)
					return
				}
				io.WriteString(w, rss("One"))
			},
			check: func(t *testing.T, r *http.Request, n int) {
				if n > 1 && r.Header.Get("If-Modified-Since") == "" {
					t.Errorf("request %d without If-Modified-Since", n)
				}
			},
		},
		{
			name: "validators refreshed by a 304",
			serve: func(w http.ResponseWriter, r *http.Request, n int) {
				switch {
				case n == 1:
					w.Header().Set("ETag", `"v1"`)
					io.WriteString(w, rss("One"))
				case r.Header.Get("If-None-Match") == `"v1"`:
					w.Header().Set("ETag", `"v2"`) // same content, new validator
					w.WriteHeader(304)
				case r.Header.Get("If-None-Match") == `"v2"`:
					w.WriteHeader(304)
				default:
					t.Errorf("request %d with If-None-Match %q", n, r.Header.Get("If-None-Match"))
					io.WriteString(w, rss("One"))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				k := int(n.Add(1))
				if tc.check != nil {
					tc.check(t, r, k)
				}
				tc.serve(w, r, k)
			}))
			defer srv.Close()
			p, db := newPoller(t)
			statuses := []int{}
			for range 3 {
				res, err, _ := pollOnce(t, p, db, srv.URL, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				statuses = append(statuses, res.Status)
			}
			if fmt.Sprint(statuses) != "[200 304 304]" {
				t.Errorf("statuses = %v, want [200 304 304]", statuses)
			}
		})
	}
}

func TestPoller_SourceHints(t *testing.T) {
	t.Parallel()
	withTTL := strings.Replace(rss("One"), "<channel>", "<channel><ttl>180</ttl>", 1)
	withSy := strings.Replace(strings.Replace(rss("One"), `<rss version="2.0">`, `<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">`, 1),
		"<channel>", "<channel><sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>", 1)
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		interval time.Duration
		want     time.Duration // wait until the next check
		jitter   bool          // a backoff: up to 10% less
	}{
		{name: "interval alone", body: rss("One"), interval: 10 * time.Minute, want: 10 * time.Minute},
		{name: "rss ttl floors the interval", body: withTTL, interval: 10 * time.Minute, want: 3 * time.Hour},
		{name: "ttl below the interval is ignored", body: withTTL, interval: 5 * time.Hour, want: 5 * time.Hour},
		{name: "sy:updatePeriod / updateFrequency", body: withSy, interval: 10 * time.Minute, want: 6 * time.Hour},
		{name: "cache-control max-age", header: map[string]string{"Cache-Control": "public, max-age=7200"}, body: rss("One"), interval: 10 * time.Minute, want: 2 * time.Hour},
		{name: "expires", header: map[string]string{"Date": "Tue, 26 Mar 2024 12:00:00 GMT", "Expires": "Tue, 26 Mar 2024 13:30:00 GMT"}, body: rss("One"), interval: 10 * time.Minute, want: 90 * time.Minute},
		{name: "max-age capped at max_interval", header: map[string]string{"Cache-Control": "max-age=31536000"}, body: rss("One"), interval: 10 * time.Minute, want: 24 * time.Hour},
		{name: "interval raised to min_interval", body: rss("One"), interval: 5 * time.Second, want: time.Minute},
		{name: "429 with Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "3600"}, interval: 10 * time.Minute, want: time.Hour},
		{name: "503 with Retry-After date", status: 503, header: map[string]string{"Retry-After": "Tue, 26 Mar 2024 14:00:00 GMT"}, interval: 10 * time.Minute, want: 2 * time.Hour},
		{name: "500 backs off from the interval", status: 500, interval: 10 * time.Minute, want: 10 * time.Minute, jitter: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			p, db := newPoller(t)
			res, _, _ := pollOnce(t, p, db, srv.URL, tc.interval)
			got := res.NextCheck.Sub(t0)
			lo := tc.want
			if tc.jitter {
				lo = tc.want * 9 / 10
			}
			if got < lo || got > tc.want {
				t.Errorf("next check in %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPoller_Gone(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "gone", http.StatusGone)
	}))
	defer srv.Close()
	p, db := newPoller(t)
	res, err, st := pollOnce(t, p, db, srv.URL, time.Minute)
	if err == nil || !res.Gone || !st.Gone || st.Health() != "gone" {
		t.Fatalf("410: result %+v, error %v, state %+v; want the feed marked gone", res, err, st)
	}
	res, err, _ = pollOnce(t, p, db, srv.URL, time.Minute)
	if err != nil || !res.Gone || n.Load() != 1 {
		t.Errorf("polling a gone feed: %+v, %v, %d requests; want no request", res, err, n.Load())
	}
}

func TestPoller_Redirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) })
	mux.HandleFunc("/old308", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/temp", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/temp307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/perm-then-temp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/temp", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	var hits sync.Map
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, rss("One")) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	tests := []struct{ path, wantCurrent string }{
		{"/old", srv.URL + "/new"},
		{"/old308", srv.URL + "/new"},
		{"/temp", ""},
		{"/temp307", ""},
		{"/perm-then-temp", srv.URL + "/temp"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p, db := newPoller(t)
			_, err, st := pollOnce(t, p, db, srv.URL+tc.path, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if st.CurrentURL != tc.wantCurrent {
				t.Errorf("current URL = %q, want %q", st.CurrentURL, tc.wantCurrent)
			}
			before := hitCount(&hits, tc.path)
			if _, err, _ = pollOnce(t, p, db, srv.URL+tc.path, time.Minute); err != nil {
				t.Fatal(err)
			}
			moved := tc.wantCurrent != ""
			if after := hitCount(&hits, tc.path); moved && after != before {
				t.Errorf("second poll went to %s again after a permanent redirect", tc.path)
			} else if !moved && after != before+1 {
				t.Errorf("second poll did not go to %s after a temporary redirect", tc.path)
			}
		})
	}
	t.Run("loop", func(t *testing.T) {
		p, db := newPoller(t)
		_, err, st := pollOnce(t, p, db, srv.URL+"/loop", time.Minute)
		if err == nil || !strings.Contains(st.LastError, "10 redirects") {
			t.Errorf("redirect loop: error %v, state error %q", err, st.LastError)
		}
		if n := hitCount(&hits, "/loop"); n != 11 {
			t.Errorf("%d requests in the loop, want 11", n)
		}
	})
}

func hitCount(m *sync.Map, path string) int64 {
	c, ok := m.Load(path)
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

func TestPoller_Limits(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		select { // no headers, ever
		case <-stop:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("<item><title>x</title></item>"), 1000)
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	bomb := gzipBomb(t, 16<<20)
	mux.HandleFunc("/gzip-bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/gzip-bomb-unlabelled", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bomb)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(stop) // before Close, which waits for the handlers

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "feedmux.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{
		Timeout: 500 * time.Millisecond, HeaderTimeout: 300 * time.Millisecond, MaxBody: 1 << 20,
	}), slog.New(slog.DiscardHandler))
	tests := []struct{ path, want string }{
		{"/drip", "Client.Timeout"},
		{"/stall", "timeout awaiting response headers"},
		{"/endless", "body too large"},
		{"/gzip-bomb", "body too large"},
		{"/gzip-bomb-unlabelled", "body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err, st := pollOnce(t, p, db, srv.URL+tc.path, time.Minute)
			if err == nil || !strings.Contains(st.LastError, tc.want) {
				t.Errorf("poll error %v, recorded %q; want one that says %q", err, st.LastError, tc.want)
			}
			if errors.Is(err, aggregator.ErrBodyTooLarge) != (tc.want == "body too large") {
				t.Errorf("errors.Is(err, ErrBodyTooLarge) wrong for %v", err)
			}
		})
	}
}

// gzipBomb compresses n zero bytes: a small body that decodes huge.
func gzipBomb(t testing.TB, n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for written := 0; written < n; written += len(zero) {
		zw.Write(zero)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPoller_OddDocuments(t *testing.T) {
	t.Parallel()
	cyrillic := "Новости"
	win1251, _ := charmap.Windows1251.NewEncoder().String(cyrillic)
	latin1, _ := charmap.ISO8859_1.NewEncoder().String("Café")
	entityBomb := `<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title><link>http://x.test/</link><description>d</description>
<item><title>&lol9;</title><link>http://x.test/1</link></item></channel></rss>`
	noDecl := strings.Replace(rss("X"), `<?xml version="1.0" encoding="UTF-8"?>`, "", 1)
	withTitle := func(decl, title string) string {
		return decl + strings.Replace(noDecl, "<title>X</title>", "<title>"+title+"</title>", 1)
	}
	docs := map[string]struct {
		contentType, body string
		wantTitle         string // of the first item; "" for an error
		wantErr           string
	}{
		"/prolog-1251":   {"text/xml; charset=utf-8", withTitle(`<?xml version="1.0" encoding="windows-1251"?>`, win1251), cyrillic, ""},
		"/header-1251":   {"application/rss+xml; charset=windows-1251", withTitle("", win1251), cyrillic, ""},
		"/prolog-wins":   {"text/xml; charset=windows-1251", withTitle(`<?xml version="1.0" encoding="ISO-8859-1"?>`, latin1), "Café", ""},
		"/header-latin1": {"text/xml; charset=ISO-8859-1", withTitle("", latin1), "Café", ""},
		"/invalid-utf8":  {"text/xml", withTitle("", "Caf\xe9 \xff ok"), "Café ÿ ok", ""},            // undeclared legacy bytes: guessed, not replaced
		"/stale-latin1":  {"text/xml; charset=ISO-8859-1", withTitle("", "Caf\xc3\xa9"), "Café", ""}, // UTF-8 bytes under a stale label
		"/entity-bomb":   {"text/xml", entityBomb, "&lol9;", ""},
		"/html-with-feed": {"text/html; charset=utf-8", `<!doctype html><html><head><title>Site</title>
<link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml"></head><body>hi</body></html>`, "Linked", ""},
		"/html-login":             {"text/html", `<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>password</form></body></html>`, "", "not a feed: HTML page without feed links"},
		"/truncated":              {"text/xml", rss("First", "Second", "Third")[:strings.Index(rss("First", "Second", "Third"), "<item><title>Third")+30], "First", ""},
		"/truncated-before-items": {"text/xml", `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><ti`, "", "parse"},
		"/feed.xml":               {"application/rss+xml", rss("Linked"), "Linked", ""},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", d.contentType)
		io.WriteString(w, d.body)
	}))
	defer srv.Close()
	for path, d := range docs {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			p, db := newPoller(t)
			_, err, st := pollOnce(t, p, db, srv.URL+path, time.Minute)
			if d.wantErr != "" {
				if err == nil || !strings.Contains(st.LastError, d.wantErr) {
					t.Errorf("error %v, recorded %q; want %q", err, st.LastError, d.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			items, err := db.Items(t.Context(), feedmux.ItemFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) == 0 {
				t.Fatal("no items stored")
			}
			if got := items[len(items)-1].Title; got != d.wantTitle && items[0].Title != d.wantTitle {
				t.Errorf("title = %q, want %q", got, d.wantTitle)
			}
			if path == "/html-with-feed" && (st.DiscoveredURL != srv.URL+"/feed.xml" || st.CurrentURL != st.DiscoveredURL) {
				t.Errorf("discovered %q, current %q; want %s/feed.xml", st.DiscoveredURL, st.CurrentURL, srv.URL)
			}
			if path == "/truncated" && (len(items) != 2 || !strings.Contains(st.LastError, "malformed document")) {
				t.Errorf("truncated document: %d items, note %q; want the 2 complete items and a note", len(items), st.LastError)
			}
		})
	}
}

func TestPoller_PerHost(t *testing.T) {
	t.Parallel()
	const perHost = 2
	var (
		mu       sync.Mutex
		inFlight = map[string]int{}
		peak     = map[string]int{}
		release  = make(chan struct{})
		polled   = make(chan struct{}, 32)
	)
	handler := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight[name]++
			peak[name] = max(peak[name], inFlight[name])
			mu.Unlock()
			<-release
			mu.Lock()
			inFlight[name]--
			mu.Unlock()
			io.WriteString(w, rss("x"+r.URL.Path))
			polled <- struct{}{}
		})
	}
	// Two hosts: 127.0.0.1 and localhost reach different servers.
	a := httptest.NewServer(handler("a"))
	defer a.Close()
	b := httptest.NewServer(handler("b"))
	defer b.Close()
	bURL := strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
	p, db := newPoller(t)
	p.Now = time.Now
	p.Concurrency, p.PerHost = 8, perHost
	var feeds []feedmux.Feed
	for i := range 6 {
		feeds = append(feeds, feedmux.Feed{URL: fmt.Sprintf("%s/%d", a.URL, i), Interval: time.Hour})
		feeds = append(feeds, feedmux.Feed{URL: fmt.Sprintf("%s/%d", bURL, i), Interval: time.Hour})
	}
	p.SetFeeds(feeds)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for range feeds {
		release <- struct{}{}
		<-polled
	}
	waitPolled(t, db, len(feeds))
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak["a"] > perHost || peak["b"] > perHost || peak["a"] == 0 || peak["b"] == 0 {
		t.Errorf("peak polls in flight per host = %v, want at most %d each", peak, perHost)
	}
}
