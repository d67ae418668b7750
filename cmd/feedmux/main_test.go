package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server/servertest"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// feedServer serves the feeds in testdata, with an ETag for the RSS one
// only, so that the others are fetched and parsed in full on every poll.
type feedServer struct {
	*httptest.Server
	requests atomic.Int64
}

func newFeedServer(t testing.TB) *feedServer {
	t.Helper()
	fs := &feedServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/")
		body, err := os.ReadFile(filepath.Join("testdata", filepath.Base(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(name, ".rss") {
			sum := sha256.Sum256(body)
			etag := `"` + hex.EncodeToString(sum[:8]) + `"`
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Write(body)
	}))
	t.Cleanup(fs.Close)
	return fs
}

// writeConfig writes a feeds.toml for the three test feeds served at base.
func writeConfig(t testing.TB, base string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[server]
listen = "127.0.0.1:0"

[poll]
interval = "1h"
concurrency = 2
timeout = "5s"

[[feed]]
url = "%[1]s/levant.rss"
title = "Levant Broadcast"
tags = ["middle-east", "lebanon"]

[[feed]]
url = "%[1]s/world.atom"
tags = ["middle-east", "world"]

[[feed]]
url = "%[1]s/tech.json"
tags = ["tech", "world"]
categories = false
`, base)
	path := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startMain runs the daemon on configPath with the database at dbPath and
// waits until every feed was polled once. Each setup function may change
// the Main before it runs.
func startMain(t testing.TB, configPath, dbPath string, setup ...func(*Main)) *Main {
	t.Helper()
	m := NewMain()
	if err := m.ParseFlags([]string{"-config", configPath, "-db", dbPath, "-log-level", "error"}, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	m.WatchInterval = 20 * time.Millisecond
	for _, f := range setup {
		f(m)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Connections the client opened and never used would hold the
		// shutdown for net/http's 5 s.
		http.DefaultClient.CloseIdleConnections()
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	waitFor(t, "every feed polled", func() bool {
		states, err := m.DB.FeedStates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.LastPoll.IsZero() {
				return false
			}
		}
		return len(states) == len(m.Config.Feeds)
	})
	return m
}

// patience is how long a test waits for something that must happen. It
// only stops a hung test: no verdict depends on how fast a machine is, so
// it is generous for a slow, busy machine under the race detector.
const patience = 3 * time.Minute

// waitFor polls cond until it holds, or fails the test after patience.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not waiting for a guess
	}
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// Minimal views of the three output formats, for reading back.
type atomDoc struct {
	ID    string `xml:"id"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID         string `xml:"id"`
		Title      string `xml:"title"`
		Content    string `xml:"content"`
		Categories []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
		Source struct {
			Title string `xml:"title"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"source"`
	} `xml:"entry"`
}

type rssDoc struct {
	Items []struct {
		Title      string   `xml:"title"`
		GUID       string   `xml:"guid"`
		Categories []string `xml:"category"`
		Source     struct {
			URL   string `xml:"url,attr"`
			Title string `xml:",chardata"`
		} `xml:"source"`
	} `xml:"channel>item"`
}

type jsonDoc struct {
	Version string `json:"version"`
	Items   []struct {
		ID      string   `json:"id"`
		Title   string   `json:"title"`
		Tags    []string `json:"tags"`
		Feedmux struct {
			Source struct {
				Title   string `json:"title"`
				FeedURL string `json:"feed_url"`
			} `json:"source"`
		} `json:"_feedmux"`
	} `json:"items"`
}

// entry is what the test expects of an output item.
type entry struct {
	Title  string
	Source string
	Tags   []string
}

func TestEndToEnd(t *testing.T) {
	feeds := newFeedServer(t)
	m := startMain(t, writeConfig(t, feeds.URL), filepath.Join(t.TempDir(), "data", "feedmux.db"))
	base := "http://" + m.Server.Addr().String()
	levant, world, tech := feeds.URL+"/levant.rss", feeds.URL+"/world.atom", feeds.URL+"/tech.json"
	sources := map[string]string{"Levant Broadcast": levant, "World Desk": world, "Tech Wire": tech}

	a1 := entry{"Haniyeh meets Iranian foreign minister in Doha", "Levant Broadcast", []string{"iran", "israel-gaza-war-updates", "lebanon", "middle-east", "middle-east-news"}}
	a2 := entry{"Beirut port reopens & ships return", "Levant Broadcast", []string{"lebanon", "middle-east"}}
	a3 := entry{"Power cuts across the south", "Levant Broadcast", []string{"lebanon", "middle-east"}}
	b1 := entry{"Ceasefire talks resume in Cairo", "World Desk", []string{"gaza", "middle-east", "world"}}
	b2 := entry{"UN General Assembly votes on resolution", "World Desk", []string{"middle-east", "world"}}
	c1 := entry{"New chip export rules announced", "Tech Wire", []string{"tech", "world"}}
	c2 := entry{"Open-source model released", "Tech Wire", []string{"tech", "world"}}
	want := map[string][]entry{
		"middle-east": {a1, b1, a2, a3, b2},
		"world":       {c1, b1, b2, c2},
		"lebanon":     {a1, a2, a3},
		"iran":        {a1},
		"tech":        {c1, c2},
		"gaza":        {b1},
	}

	check := func(t *testing.T, tag string) {
		t.Helper()
		resp, body := get(t, base+"/tags/"+tag+".atom")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
			t.Fatalf("atom: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		var a atomDoc
		if err := xml.Unmarshal(body, &a); err != nil {
			t.Fatalf("atom does not parse: %v", err)
		}
		var got []entry
		ids := map[string]bool{}
		for _, e := range a.Entries {
			var tags []string
			for _, c := range e.Categories {
				tags = append(tags, c.Term)
			}
			got = append(got, entry{e.Title, e.Source.Title, tags})
			if ids[e.ID] || !strings.HasPrefix(e.ID, "urn:uuid:") {
				t.Errorf("atom entry id %q repeated or not a urn:uuid", e.ID)
			}
			ids[e.ID] = true
			if len(e.Source.Links) == 0 || e.Source.Links[0].Href != sources[e.Source.Title] {
				t.Errorf("atom entry %q: source links %+v, want %s", e.Title, e.Source.Links, sources[e.Source.Title])
			}
			if strings.Contains(e.Content, "<script") || strings.Contains(e.Content, "onclick") || strings.Contains(e.Content, "javascript:") {
				t.Errorf("atom entry %q carries active content: %s", e.Title, e.Content)
			}
		}
		if diff := cmp.Diff(want[tag], got); diff != "" {
			t.Errorf("%s.atom entries (-want +got):\n%s", tag, diff)
		}
		if self := a.Links[0]; self.Rel != "self" || self.Href != base+"/tags/"+tag+".atom" {
			t.Errorf("atom self link = %+v", self)
		}
		servertest.Jing(t, body)
		if v, n := servertest.Feedparser(t, body); v != "atom10" || n != len(want[tag]) {
			t.Errorf("feedparser sees %s with %d entries, want atom10 with %d", v, n, len(want[tag]))
		}

		resp, body = get(t, base+"/tags/"+tag+".rss")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/rss+xml; charset=utf-8" {
			t.Fatalf("rss: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		var r rssDoc
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatalf("rss does not parse: %v", err)
		}
		got = nil
		for _, it := range r.Items {
			got = append(got, entry{it.Title, it.Source.Title, it.Categories})
			if it.Source.URL != sources[it.Source.Title] {
				t.Errorf("rss item %q: source url %q, want %q", it.Title, it.Source.URL, sources[it.Source.Title])
			}
			if !ids[it.GUID] {
				t.Errorf("rss guid %q is not an id of the atom feed", it.GUID)
			}
		}
		if diff := cmp.Diff(want[tag], got); diff != "" {
			t.Errorf("%s.rss items (-want +got):\n%s", tag, diff)
		}
		if v, n := servertest.Feedparser(t, body); v != "rss20" || n != len(want[tag]) {
			t.Errorf("feedparser sees %s with %d entries, want rss20 with %d", v, n, len(want[tag]))
		}

		resp, body = get(t, base+"/tags/"+tag+".json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/feed+json; charset=utf-8" {
			t.Fatalf("json: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		var j jsonDoc
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatalf("json does not parse: %v", err)
		}
		got = nil
		for _, it := range j.Items {
			got = append(got, entry{it.Title, it.Feedmux.Source.Title, it.Tags})
			if !ids[it.ID] {
				t.Errorf("json id %q is not an id of the atom feed", it.ID)
			}
			if it.Feedmux.Source.FeedURL != sources[it.Feedmux.Source.Title] {
				t.Errorf("json item %q: source %q", it.Title, it.Feedmux.Source.FeedURL)
			}
		}
		if diff := cmp.Diff(want[tag], got); diff != "" {
			t.Errorf("%s.json items (-want +got):\n%s", tag, diff)
		}
	}
	for tag := range want {
		t.Run(tag, func(t *testing.T) { check(t, tag) })
	}

	t.Run("all", func(t *testing.T) {
		_, body := get(t, base+"/all.json")
		var j jsonDoc
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		if len(j.Items) != 7 || j.Items[0].Title != c1.Title {
			t.Errorf("all.json has %d items starting with %q, want 7 starting with %q", len(j.Items), j.Items[0].Title, c1.Title)
		}
		_, body = get(t, base+"/all.atom")
		servertest.Jing(t, body)
	})

	t.Run("limit", func(t *testing.T) {
		_, body := get(t, base+"/tags/middle-east.json?limit=2")
		var j jsonDoc
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		if len(j.Items) != 2 || j.Items[1].Title != b1.Title {
			t.Errorf("limit=2 gives %d items, want the newest 2", len(j.Items))
		}
		for _, bad := range []string{"0", "501", "x"} {
			if resp, _ := get(t, base+"/tags/middle-east.json?limit="+bad); resp.StatusCode != 400 {
				t.Errorf("limit=%s: %s, want 400", bad, resp.Status)
			}
		}
	})

	t.Run("unknown tag and format", func(t *testing.T) {
		for _, path := range []string{"/tags/nope.atom", "/tags/middle-east.html", "/tags/Middle%20East.atom"} {
			if resp, _ := get(t, base+path); resp.StatusCode != 404 {
				t.Errorf("GET %s: %s, want 404", path, resp.Status)
			}
		}
	})

	t.Run("index", func(t *testing.T) {
		resp, body := get(t, base+"/")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("index: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		page := string(body)
		for tag, entries := range want {
			for _, f := range []string{"atom", "rss", "json"} {
				if !strings.Contains(page, `href="`+base+`/tags/`+tag+`.`+f+`"`) {
					t.Errorf("index has no link to %s.%s", tag, f)
				}
			}
			if !strings.Contains(page, `<link rel="alternate" type="application/atom+xml" title="feedmux: `+tag+`" href="`+base+`/tags/`+tag+`.atom">`) {
				t.Errorf("index has no autodiscovery link for %s", tag)
			}
			if !strings.Contains(page, fmt.Sprintf("%d item", len(entries))) {
				t.Errorf("index does not count %d items for %s", len(entries), tag)
			}
		}
	})

	t.Run("healthz", func(t *testing.T) {
		if resp, _ := get(t, base+"/healthz"); resp.StatusCode != 200 {
			t.Errorf("healthz: %s", resp.Status)
		}
	})

	t.Run("a second poll adds nothing", func(t *testing.T) {
		for _, f := range m.Config.FeedList() {
			res, err := m.Poller.Poll(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			if res.Inserted != 0 || res.Updated != 0 {
				t.Errorf("second poll of %s: %d inserted, %d updated; want none", f.URL, res.Inserted, res.Updated)
			}
			wantStatus := 200
			if strings.HasSuffix(f.URL, ".rss") {
				wantStatus = 304
			}
			if res.Status != wantStatus {
				t.Errorf("second poll of %s: status %d, want %d", f.URL, res.Status, wantStatus)
			}
		}
		items, err := m.DB.Items(t.Context(), feedmux.ItemFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 7 {
			t.Errorf("%d items stored after the second poll, want 7", len(items))
		}
	})
}

// allIDs returns the ids of /all.json, sorted.
func allIDs(t *testing.T, m *Main) []string {
	t.Helper()
	_, body := get(t, "http://"+m.Server.Addr().String()+"/all.json")
	var j jsonDoc
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range j.Items {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestRestart_IDsStable(t *testing.T) {
	feeds := newFeedServer(t)
	config := writeConfig(t, feeds.URL)
	dbPath := filepath.Join(t.TempDir(), "feedmux.db")

	m := startMain(t, config, dbPath)
	before := allIDs(t, m)
	if len(before) != 7 {
		t.Fatalf("%d ids before the restart, want 7", len(before))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m = startMain(t, config, dbPath)
	if diff := cmp.Diff(before, allIDs(t, m)); diff != "" {
		t.Errorf("ids after reopening the database (-before +after):\n%s", diff)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// Delete the database and ingest the same sources again: the same ids.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	m = startMain(t, config, dbPath)
	if diff := cmp.Diff(before, allIDs(t, m)); diff != "" {
		t.Errorf("ids after rebuilding the database (-before +after):\n%s", diff)
	}
}

// TestServe_SIGTERM runs the real binary and stops it the way Docker does.
func TestServe_SIGTERM(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()

	feeds := newFeedServer(t)
	addr := freeAddr(t)
	dbPath := filepath.Join(dir, "data", "feedmux.db")
	cmd := exec.Command(bin, "serve", "-config", writeConfig(t, feeds.URL), "-listen", addr)
	cmd.Env = append(os.Environ(), "FEEDMUX_DB="+dbPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	waitFor(t, "the daemon to serve its items", func() bool {
		resp, err := http.Get("http://" + addr + "/all.json")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var j jsonDoc
		return json.NewDecoder(resp.Body).Decode(&j) == nil && len(j.Items) == 7
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("feedmux exited with %v after SIGTERM, want status 0\n%s", err, stderr.String())
		}
	case <-time.After(patience):
		t.Fatalf("feedmux did not exit within %s of SIGTERM\n%s", patience, stderr.String())
	}
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildBinary builds the feedmux binary once per test run, static as the
// Dockerfile builds it, and returns its path.
func buildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is needed to build the binary: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "feedmux-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "feedmux")
		build := exec.Command(goTool, "build", "-trimpath", "-o", binPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := pgtest.Main(m) // a private PostgreSQL cluster, for the tests of a shared database
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
