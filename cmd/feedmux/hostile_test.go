package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hit is one request a test server received.
type hit struct {
	at          time.Time
	conditional bool
	status      int
}

// hitLog records requests by path.
type hitLog struct {
	mu   sync.Mutex
	hits map[string][]hit
}

func (l *hitLog) add(path string, h hit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hits == nil {
		l.hits = map[string][]hit{}
	}
	l.hits[path] = append(l.hits[path], h)
}

func (l *hitLog) get(path string) []hit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hit(nil), l.hits[path]...)
}

// serveOn starts an httptest server on the given loopback address, so that
// each hostile source is its own host for the per-host limit.
func serveOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s (Linux routes all of 127.0.0.0/8 to loopback): %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func smallRSS(title string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>http://example.test/</link><description>d</description>`, title)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s item %d</title><link>http://example.test/%s/%d</link><guid>%s-%d</guid><pubDate>Tue, 26 Mar 2024 %02d:00:00 +0000</pubDate><description>Body of item %d.</description></item>`, title, i, title, i, title, i, i%24, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// TestServe_HostileSources runs the real binary against 200 unchanged
// feeds and a set of hostile endpoints for a few seconds, with one-second
// intervals, and checks that the healthy feeds are polled on time and
// conditionally, that no hostile source gets more requests than its
// schedule allows, and that the daemon's memory stays bounded.
func TestServe_HostileSources(t *testing.T) {
	bin := buildBinary(t)
	var log hitLog
	stop := make(chan struct{})

	// 200 healthy feeds that never change: 304 from the second poll on.
	const healthy = 200
	bodies := map[string]string{}
	for i := range healthy {
		bodies["/h/"+strconv.Itoa(i)] = smallRSS("h"+strconv.Itoa(i), 20)
	}
	good := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		etag := `"` + strconv.Itoa(len(body)) + `"`
		w.Header().Set("ETag", etag)
		cond := r.Header.Get("If-None-Match") != ""
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(304)
			log.add(r.URL.Path, hit{time.Now(), cond, 304})
			return
		}
		io.WriteString(w, body)
		log.add(r.URL.Path, hit{time.Now(), cond, 200})
	}))

	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	hostile := map[string]http.HandlerFunc{
		"slow": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
			for {
				w.(http.Flusher).Flush()
				select {
				case <-stop:
					return
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
					w.Write([]byte("x"))
				}
			}
		},
		"stalled": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		},
		"endless": func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("<item><title>x</title></item>"), 1000)
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
		"bomb": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		},
		"entities": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>`+
				`<rss version="2.0"><channel><title>e</title><link>http://e.test/</link><description>d</description><item><title>&d;&d;&d;</title><guid>e1</guid></item></channel></rss>`)
		},
		"loop": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/feed", http.StatusFound) },
		"ratelimit": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
		},
		"busy": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(503)
		},
		"broken": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
		"gone":   func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) },
		"moved": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/new" {
				io.WriteString(w, smallRSS("moved", 3))
				return
			}
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		},
		"page": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/feed.xml" {
				io.WriteString(w, smallRSS("linked", 3))
				return
			}
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>news</body></html>`)
		},
		"login": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<!doctype html><html><head><title>Sign in</title></head><body><form></form></body></html>`)
		},
		"truncated": func(w http.ResponseWriter, r *http.Request) {
			s := smallRSS("trunc", 5)
			io.WriteString(w, s[:len(s)*2/3])
		},
	}
	urls := map[string]string{}
	ip := 10
	for name, h := range hostile {
		srv := serveOn(t, fmt.Sprintf("127.0.0.%d", ip), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.add(name+r.URL.Path, hit{at: time.Now()})
			h(w, r)
		}))
		urls[name] = srv.URL + "/feed"
		ip++
	}
	defer close(stop)

	var cfg strings.Builder
	cfg.WriteString(`[poll]
interval = "1s"
min_interval = "1s"
max_interval = "1h"
concurrency = 16
per_host = 8
timeout = "2s"
header_timeout = "1s"
max_body = 1048576
`)
	for i := range healthy {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = %q\ntags = [\"healthy\"]\n", good.URL+"/h/"+strconv.Itoa(i))
	}
	for name, u := range urls {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = %q\ntags = [%q]\n", u, name)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "feeds.toml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "-config", config, "-listen", addr, "-db", filepath.Join(dir, "feedmux.db"), "-log-level", "error")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	// Watch until every source has been asked often enough to judge its
	// schedule: how often each is polled is measured against the others
	// and against its own gaps, never against the clock, so a slow machine
	// takes longer but reaches the same verdict.
	const polls = 4
	start := time.Now()
	failing := []string{"broken/feed", "login/feed", "slow/feed", "stalled/feed", "endless/feed", "bomb/feed"}
	waitFor(t, fmt.Sprintf("%d requests to every healthy and every failing source", polls), func() bool {
		for i := range healthy {
			if len(log.get("/h/"+strconv.Itoa(i))) < polls {
				return false
			}
		}
		for _, name := range append([]string{"moved/new", "page/feed.xml"}, failing...) {
			if len(log.get(name)) < polls {
				return false
			}
		}
		return true
	})
	peak := peakRSS(t, cmd.Process.Pid)
	feeds := feedsJSON(t, "http://"+addr+"/feeds.json")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("feedmux exited with %v\n%s", err, stderr.String())
	}
	elapsed := time.Since(start)
	t.Logf("peak resident memory %.1f MB", float64(peak)/(1<<20))
	if peak > 150<<20 {
		t.Errorf("peak resident memory %d MB, want under 150 MB", peak>>20)
	}

	// Healthy feeds: polled again and again, conditionally from the second
	// poll on, and answered 304.
	for i := range healthy {
		hits := log.get("/h/" + strconv.Itoa(i))
		for k, h := range hits[1:] {
			if !h.conditional || h.status != 304 {
				t.Errorf("healthy feed %d, poll %d: conditional %v, status %d; want a conditional request answered 304", i, k+2, h.conditional, h.status)
				break
			}
		}
	}

	once := func(path string) {
		if n := len(log.get(path)); n != 1 {
			t.Errorf("%s: %d requests, want exactly 1", path, n)
		}
	}
	once("ratelimit/feed") // Retry-After: 3600
	once("busy/feed")      // Retry-After: 3600
	once("gone/feed")      // 410
	once("moved/feed")     // 301: polled at the new address from then on
	once("page/feed")      // HTML page: followed to its feed once
	// Failing sources back off: while a healthy source of the same 1 s
	// interval was asked again and again, the gaps between requests to a
	// failing one grow, the last one at least half as long again as the
	// first (doubling, less 10% jitter; a source that takes the whole
	// timeout to fail grows by the backoff part).
	for _, name := range failing {
		hits := log.get(name)
		first, last := hits[1].at.Sub(hits[0].at), hits[len(hits)-1].at.Sub(hits[len(hits)-2].at)
		if last < first*3/2 {
			t.Errorf("%s: %d requests in %s, gaps from %s to %s; want them to grow with backoff", name, len(hits), elapsed.Round(time.Second), first, last)
		}
		if healthyHits := len(log.get("/h/0")); len(hits) >= healthyHits {
			t.Errorf("%s: %d requests, as many as the healthy source's %d: no backoff", name, len(hits), healthyHits)
		}
	}
	if n := len(log.get("loop/feed")); n%11 != 0 || n/11 < 2 || n/11 > 5 {
		t.Errorf("redirect loop: %d requests, want 11 per poll and 2 to 5 polls with backoff", n)
	}

	health := map[string]string{}
	for _, f := range feeds {
		for name, u := range urls {
			if f.URL == u {
				health[name] = f.Health
				if name == "page" && (f.DiscoveredURL == "" || f.Items != 3) {
					t.Errorf("page: discovered %q with %d items, want its linked feed ingested", f.DiscoveredURL, f.Items)
				}
				if name == "moved" && !strings.HasSuffix(f.CurrentURL, "/new") {
					t.Errorf("moved: current URL %q, want the new address", f.CurrentURL)
				}
				if f.Health != "ok" && f.LastError == "" {
					t.Errorf("%s is %s without an error", name, f.Health)
				}
			}
		}
	}
	want := map[string]string{
		"gone": "gone", "broken": "failing", "ratelimit": "failing", "busy": "failing", "login": "failing",
		"slow": "failing", "stalled": "failing", "endless": "failing", "bomb": "failing", "loop": "failing",
		"moved": "ok", "page": "ok", "entities": "ok", "truncated": "ok",
	}
	for name, h := range want {
		if health[name] != h {
			t.Errorf("%s: health %q, want %q", name, health[name], h)
		}
	}
}

type feedStatusView struct {
	URL           string `json:"url"`
	CurrentURL    string `json:"current_url"`
	DiscoveredURL string `json:"discovered_url"`
	Health        string `json:"health"`
	LastError     string `json:"last_error"`
	Items         int    `json:"items"`
}

func feedsJSON(t *testing.T, url string) []feedStatusView {
	t.Helper()
	_, body := get(t, url)
	var doc struct {
		Feeds []feedStatusView `json:"feeds"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("feeds.json: %v", err)
	}
	return doc.Feeds
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
