package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server/servertest"
	"github.com/feedmux/feedmux/storage/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testBase = "https://feeds.example"

// renderNow is the server's clock in these tests.
var renderNow = t0.Add(time.Hour)

// countingStore counts the queries the server makes.
type countingStore struct {
	*sqlite.DB
	queries atomic.Int64
}

func (c *countingStore) ItemPage(ctx context.Context, f feedmux.ItemFilter) (feedmux.ItemPage, error) {
	c.queries.Add(1)
	return c.DB.ItemPage(ctx, f)
}

func (c *countingStore) Tags(ctx context.Context) ([]feedmux.TagCount, error) {
	c.queries.Add(1)
	return c.DB.Tags(ctx)
}

// testServer is a server on a fresh database holding stored.
type testServer struct {
	*Server
	db    *countingStore
	feeds []feedmux.Feed
}

func newTestServer(tb testing.TB, stored []feedmux.Item) *testServer {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "feedmux.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	ts := &testServer{db: &countingStore{DB: db}}
	bySource := map[string][]feedmux.Item{}
	for _, it := range stored {
		if _, ok := bySource[it.Source.URL]; !ok {
			ts.feeds = append(ts.feeds, feedmux.Feed{URL: it.Source.URL, Title: it.Source.Title})
		}
		bySource[it.Source.URL] = append(bySource[it.Source.URL], it)
	}
	if err := db.SyncFeeds(tb.Context(), ts.feeds); err != nil {
		tb.Fatal(err)
	}
	for _, f := range ts.feeds {
		src := bySource[f.URL][0].Source
		st := feedmux.FeedState{URL: f.URL, Title: src.Title, SiteURL: src.SiteURL, LastPoll: t0}
		if _, err := db.SaveItems(tb.Context(), st, bySource[f.URL]); err != nil {
			tb.Fatal(err)
		}
	}
	ts.Server = New(ts.db, slog.New(slog.DiscardHandler))
	ts.Now = func() time.Time { return renderNow }
	ts.Configure(Config{BaseURL: testBase, MaxAge: time.Minute, Version: "test"})
	return ts
}

// add stores more items of the first source and tells the server, as the
// poller does.
func (ts *testServer) add(tb testing.TB, items ...feedmux.Item) {
	tb.Helper()
	res, err := ts.db.SaveItems(tb.Context(), feedmux.FeedState{URL: ts.feeds[0].URL, LastPoll: t0}, items)
	if err != nil {
		tb.Fatal(err)
	}
	ts.Invalidate(res.Tags)
}

func (ts *testServer) get(tb testing.TB, target string, header ...string) *http.Response {
	tb.Helper()
	req := httptest.NewRequest("GET", testBase+target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if len(header)%2 == 1 {
		req.Method = header[len(header)-1]
	}
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(tb testing.TB, resp *http.Response) []byte {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// hostileItems are stored items of every kind that breaks merged feeds or
// the readers that show them. They are stored as a source could send them,
// before any sanitizing, to prove the output is safe on its own.
func hostileItems() []feedmux.Item {
	a := feedmux.Source{URL: "https://a.example/feed.xml", Title: "A & B <News>", SiteURL: "https://a.example/"}
	b := feedmux.Source{URL: "https://b.example/rss", Title: "Бюллетень", SiteURL: "https://b.example/"}
	return []feedmux.Item{
		{Key: "cdata", URL: "https://a.example/1", Title: "Content with ]]> inside",
			Content: "<p>a ]]> b &amp; <b>bold</b></p>", Summary: "short ]]> summary",
			Published: t0, Tags: []string{"world"}, Source: a, Email: "ed@a.example", Author: "Ed"},
		{Key: "control", URL: "https://a.example/control", Title: "Control\x01 characters\x0b here",
			Content: "<p>bell\x07 and null\x00 and &#1; escape</p>", Published: t0.Add(-time.Minute),
			Email: "not an address", Author: "Anonymous", Tags: []string{"world"}, Source: a},
		{Key: "script", URL: "https://a.example/script", Title: "Scripts and handlers",
			Content: `<p onclick="steal()">hi<script>alert(1)</script></p><img src="x.png" onerror="alert(2)">` +
				`<a href="javascript:alert(3)">js</a><iframe src="https://evil.example/"></iframe>` +
				`<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe><div style="position:fixed">styled</div>`,
			Published: t0.Add(-2 * time.Minute), Tags: []string{"world", "security"}, Source: a},
		{Key: "relative", URL: "https://a.example/news/2024/relative.html", Title: "Relative links",
			Content:   `<p><a href="../other.html">other</a> <img src="/img/photo.jpg" alt="photo"> <a href="#top">top</a></p>`,
			Published: t0.Add(-3 * time.Minute), Tags: []string{"world"}, Source: a},
		{Key: "undated-1", URL: "https://a.example/u1", Title: "Undated one", Content: "first",
			FirstSeen: t0.Add(-time.Hour), Tags: []string{"world"}, Source: a},
		{Key: "undated-2", URL: "https://a.example/u2", Title: "Undated two", Content: "second",
			FirstSeen: t0.Add(-time.Hour - time.Second), Tags: []string{"world"}, Source: a},
		{Key: "podcast", URL: "https://b.example/ep1", Title: "Эпизод 1 — Ελληνικά, العربية, 日本語",
			Summary: "Show notes", Author: "Host Name",
			Enclosures: []feedmux.Enclosure{
				{URL: "https://b.example/ep1.mp3", Type: "audio/mpeg", Length: 123456},
				{URL: "https://b.example/ep1.ogg", Type: "audio/ogg"},
				{URL: "https://b.example/ep1.m4a"},
			},
			Published: t0.Add(-3 * time.Hour), Updated: t0.Add(-time.Minute), Tags: []string{"world", "podcast"}, Source: b},
		{Key: "tie", URL: "https://b.example/tie", Title: "Same time as another source", Content: "tie",
			Published: t0, Tags: []string{"world"}, Source: b},
		{Key: "future", URL: "https://b.example/future", Title: "Dated five hours ahead", Content: "fast clock",
			Published: t0.Add(5 * time.Hour), Tags: []string{"world"}, Source: b},
		{Key: "long", Title: strings.Repeat("Very long title ", 40), Published: t0.Add(-4 * time.Hour),
			Tags: []string{"world"}, Source: b},
		{Key: "untitled", URL: "https://b.example/untitled",
			Content:   "<p>A post without a title, as Mastodon writes them, that goes on for quite a while longer than a title should</p>",
			Published: t0.Add(-5 * time.Hour), Tags: []string{"world"}, Source: b},
		{Key: "arabic", URL: "https://b.example/ar", Title: "الشرق الأوسط: تقرير", Content: "<p dir=\"rtl\">نص</p>",
			Published: t0.Add(-6 * time.Hour), Tags: []string{"world", "الشرق-الأوسط"}, Source: b},
	}
}

// TestGolden renders the hostile items in every format, compares the bytes
// with testdata/golden and holds the output to the validators.
func TestGolden(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	for _, format := range []string{formatAtom, formatRSS, formatJSON} {
		t.Run(format, func(t *testing.T) {
			target := "/tags/world." + format + "?limit=10"
			resp := ts.get(t, target)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %s", target, resp.Status)
			}
			got := body(t, resp)
			golden := filepath.Join("testdata", "golden", "world."+format)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./server -run TestGolden -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test ./server -run TestGolden -update rewrites it; review the diff):\n%s", target, golden, got)
			}
			checkOutput(t, format, testBase+target, got)
			for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "evil.example", "\x01", "\x07", "\uFFFD"} {
				if bytes.Contains(got, []byte(bad)) {
					t.Errorf("output contains %q", bad)
				}
			}
			for _, want := range []string{"https://a.example/news/other.html", "https://a.example/img/photo.jpg",
				"https://www.youtube.com/embed/dQw4w9WgXcQ", "noopener noreferrer", "rel=\"next\"", "Эпизод 1"} {
				if format == formatJSON && want == `rel="next"` {
					want = `"next_url"`
				}
				if !bytes.Contains(got, []byte(want)) && !bytes.Contains(got, []byte(xmlEscape(want))) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// checkOutput runs every validator we have on an output feed.
func checkOutput(t *testing.T, format, selfURL string, doc []byte) {
	t.Helper()
	servertest.Check(t, format, selfURL, doc, renderNow)
	switch format {
	case formatAtom:
		servertest.Jing(t, doc)
		servertest.Feedparser(t, doc)
	case formatRSS:
		servertest.Feedparser(t, doc)
	}
}

func TestHTTP_Conditional(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	first := ts.get(t, "/tags/world.atom")
	full := body(t, first)
	etag, lastMod := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if !regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`).MatchString(etag) {
		t.Fatalf("ETag %q is not a strong entity tag", etag)
	}
	if want := t0.Add(time.Hour).Format(http.TimeFormat); lastMod != want {
		// The newest item is dated five hours ahead; no time passes now.
		t.Errorf("Last-Modified %q, want the newest item's time clamped to now, %q", lastMod, want)
	}
	if got := first.Header.Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control %q", got)
	}
	queries := ts.db.queries.Load()

	tests := []struct {
		name    string
		header  []string
		status  int
		body    bool
		gzipped bool
	}{
		{"same ETag", []string{"If-None-Match", etag}, 304, false, false},
		{"ETag in a list", []string{"If-None-Match", `"nope", ` + etag}, 304, false, false},
		{"weak form of the ETag", []string{"If-None-Match", "W/" + etag}, 304, false, false},
		{"other ETag", []string{"If-None-Match", `"other"`}, 200, true, false},
		{"same date", []string{"If-Modified-Since", lastMod}, 304, false, false},
		{"later date", []string{"If-Modified-Since", renderNow.Add(time.Hour).Format(http.TimeFormat)}, 304, false, false},
		{"earlier date", []string{"If-Modified-Since", t0.Add(-time.Hour).Format(http.TimeFormat)}, 200, true, false},
		{"ETag wins over date", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, 200, true, false},
		{"gzip", []string{"Accept-Encoding", "gzip, deflate, br"}, 200, true, true},
		{"gzip refused", []string{"Accept-Encoding", "gzip;q=0, identity"}, 200, true, false},
		{"gzip and same ETag", []string{"Accept-Encoding", "gzip", "If-None-Match", etag}, 304, false, false},
		{"HEAD", []string{"HEAD"}, 200, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := ts.get(t, "/tags/world.atom", tc.header...)
			got := body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !tc.body && len(got) > 0 {
				t.Errorf("%d bytes of body, want none", len(got))
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") == "" {
				t.Errorf("answer without ETag or Cache-Control: %v", resp.Header)
			}
			if resp.StatusCode == http.StatusNotModified && resp.Header.Get("Last-Modified") != "" {
				t.Errorf("a 304 with an ETag carries Last-Modified %q", resp.Header.Get("Last-Modified"))
			}
			if gz := resp.Header.Get("Content-Encoding") == "gzip"; gz != tc.gzipped && tc.body {
				t.Errorf("Content-Encoding %q, gzip wanted: %v", resp.Header.Get("Content-Encoding"), tc.gzipped)
			}
			if tc.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				plain, _ := io.ReadAll(zr)
				if !bytes.Equal(plain, full) {
					t.Errorf("gzipped body differs from the plain one")
				}
				if resp.Header.Get("ETag") == etag {
					t.Errorf("gzipped answer has the plain answer's ETag")
				}
			} else if tc.body && !bytes.Equal(got, full) {
				t.Errorf("body differs from the first answer")
			}
			if tc.name == "HEAD" && resp.Header.Get("Content-Length") != strconv.Itoa(len(full)) {
				t.Errorf("HEAD Content-Length %q, want %d", resp.Header.Get("Content-Length"), len(full))
			}
			if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
				t.Errorf("Vary %q", v)
			}
		})
	}
	if n := ts.db.queries.Load(); n != queries {
		t.Errorf("conditional and cached requests made %d database queries, want none", n-queries)
	}
}

func TestHTTP_Invalidation(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	world := ts.get(t, "/tags/world.rss")
	etag := world.Header.Get("ETag")
	podcast := ts.get(t, "/tags/podcast.json").Header.Get("ETag")
	queries := ts.db.queries.Load()

	// An item of another tag lands: the world feed stays cached.
	ts.add(t, feedmux.Item{Key: "sport", URL: "https://a.example/sport", Title: "Sport", Published: t0, Tags: []string{"sport"}})
	if got := ts.get(t, "/tags/world.rss", "If-None-Match", etag); got.StatusCode != 304 {
		t.Errorf("after an item of another tag: status %d, want 304", got.StatusCode)
	}
	if n := ts.db.queries.Load() - queries; n != 0 {
		t.Errorf("after an item of another tag: %d queries, want 0", n)
	}

	// An item of the tag lands: a new document with a new ETag.
	ts.add(t, feedmux.Item{Key: "news", URL: "https://a.example/news", Title: "Fresh news", Published: t0.Add(time.Minute), Tags: []string{"world"}})
	resp := ts.get(t, "/tags/world.rss", "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Fatalf("after an item of the tag: status %d, ETag %s (was %s)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
	if !bytes.Contains(body(t, resp), []byte("Fresh news")) {
		t.Errorf("the new item is not in the feed")
	}
	if got := ts.get(t, "/tags/podcast.json").Header.Get("ETag"); got != podcast {
		t.Errorf("podcast feed changed ETag without a podcast item")
	}

	// A change to an item that carried the tag and now does not.
	ts.add(t, feedmux.Item{Key: "news", URL: "https://a.example/news", Title: "Fresh news", Published: t0.Add(time.Minute), Tags: []string{"sport"}})
	if bytes.Contains(body(t, ts.get(t, "/tags/world.rss")), []byte("Fresh news")) {
		t.Errorf("an item that lost the tag is still in the tag's feed")
	}
}

// TestCache_RenderRace: a render that began before a change must not be
// cached after it.
func TestCache_RenderRace(t *testing.T) {
	c := newCache(1 << 20)
	doc, _, _ := c.get("k", func() (*rendered, error) {
		c.invalidate([]string{"world"}) // an item lands while we render
		return newRendered("k", []string{"world"}, "text/plain", []byte("stale"), t0), nil
	})
	if string(doc.body) != "stale" || c.len() != 0 {
		t.Errorf("stale render cached: %d entries", c.len())
	}
	c.get("k", func() (*rendered, error) {
		c.invalidate([]string{"sport"})
		return newRendered("k", []string{"world"}, "text/plain", []byte("fresh"), t0), nil
	})
	if c.len() != 1 {
		t.Errorf("render unaffected by a change of another tag not cached")
	}
	for i := range 100 {
		key := strconv.Itoa(i)
		c.get(key, func() (*rendered, error) {
			return newRendered(key, nil, "text/plain", bytes.Repeat([]byte{byte(i)}, 64<<10), t0), nil
		})
	}
	if c.size > c.max {
		t.Errorf("cache holds %d bytes, over its bound of %d", c.size, c.max)
	}
}

func TestHTTP_Paging(t *testing.T) {
	items := hostileItems()
	ts := newTestServer(t, items)
	var ids []string
	next := "/tags/world.atom?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > len(items) {
			t.Fatal("paging does not end")
		}
		resp := ts.get(t, next)
		doc := body(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, doc)
		}
		checkOutput(t, formatAtom, testBase+next, doc)
		var f struct {
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			IDs []string `xml:"entry>id"`
		}
		if err := xml.Unmarshal(doc, &f); err != nil {
			t.Fatal(err)
		}
		if len(f.IDs) > 3 {
			t.Errorf("page of %d entries, limit 3", len(f.IDs))
		}
		ids = append(ids, f.IDs...)
		next = ""
		for _, l := range f.Links {
			if l.Rel == "next" {
				next = strings.TrimPrefix(l.Href, testBase)
			}
		}
	}
	var want []string
	for _, it := range items {
		if slices.Contains(it.Tags, "world") {
			want = append(want, it.ID())
		}
	}
	slices.Sort(want)
	got := slices.Clone(ids)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("walking the pages gave %d ids, want each of %d once:\n%v", len(ids), len(want), ids)
	}
	for _, bad := range []string{"?limit=0", "?limit=501", "?limit=x", "?before=yesterday"} {
		if resp := ts.get(t, "/tags/world.atom"+bad); resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestHTTP_Combined(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	ab := body(t, ts.get(t, "/tags/podcast+security.json"))
	ba := body(t, ts.get(t, "/tags/security+podcast+security.json"))
	if n := bytes.Count(ab, []byte(`"_feedmux"`)); n != 2 {
		t.Errorf("podcast+security has %d items, want 2", n)
	}
	if !bytes.Equal(ab[bytes.Index(ab, []byte(`"items"`)):], ba[bytes.Index(ba, []byte(`"items"`)):]) {
		t.Errorf("the order of tags in the path changes the items")
	}
	// An item carrying both tags appears once.
	world := body(t, ts.get(t, "/tags/security+world.atom?limit=500"))
	if n := bytes.Count(world, []byte("<entry>")); n != 12 {
		t.Errorf("security+world has %d entries, want 12, each once", n)
	}
	checkOutput(t, formatAtom, testBase+"/tags/security+world.atom?limit=500", world)
	for _, bad := range []string{"/tags/world+nope.atom", "/tags/World.atom", "/tags/world+.atom"} {
		if resp := ts.get(t, bad); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

func TestHTTP_Private(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	const token = "0123456789abcdef0123"
	ts.Configure(Config{BaseURL: testBase, MaxAge: time.Minute, PrivateTags: []string{"security"}, Token: token})
	for _, target := range []string{"/tags/security.atom", "/tags/security.atom?token=wrong", "/tags/security+world.atom"} {
		if resp := ts.get(t, target); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", target, resp.StatusCode)
		}
	}
	resp := ts.get(t, "/tags/security.atom?token="+token)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "private") {
		t.Errorf("with the token: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	checkOutput(t, formatAtom, testBase+"/tags/security.atom?token="+token, body(t, resp))
	for _, target := range []string{"/", "/tags.opml", "/all.atom?limit=500", "/tags/world.atom?limit=500"} {
		if b := body(t, ts.get(t, target)); bytes.Contains(b, []byte("security")) {
			t.Errorf("GET %s without the token mentions the private tag", target)
		}
	}
	if b := body(t, ts.get(t, "/all.atom?limit=500")); bytes.Contains(b, []byte("Scripts and handlers")) {
		t.Errorf("/all without the token shows an item of a private tag")
	}
	for _, target := range []string{"/?token=" + token, "/tags.opml?token=" + token, "/all.atom?limit=500&token=" + token} {
		if b := body(t, ts.get(t, target)); !bytes.Contains(b, []byte("security")) {
			t.Errorf("GET %s with the token does not show the private tag", target)
		}
	}
}

func TestHTTP_OPML(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	resp := ts.get(t, "/tags.opml")
	var doc struct {
		Version  string `xml:"version,attr"`
		Title    string `xml:"head>title"`
		Outlines []struct {
			Type   string `xml:"type,attr"`
			Text   string `xml:"text,attr"`
			XMLURL string `xml:"xmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(body(t, resp), &doc); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, o := range doc.Outlines {
		if o.Type != "rss" || o.Text == "" {
			t.Errorf("outline %+v lacks type rss or text", o)
		}
		urls = append(urls, o.XMLURL)
	}
	want := []string{testBase + "/tags/podcast.atom", testBase + "/tags/security.atom", testBase + "/tags/world.atom",
		testBase + "/tags/%D8%A7%D9%84%D8%B4%D8%B1%D9%82-%D8%A7%D9%84%D8%A3%D9%88%D8%B3%D8%B7.atom"}
	if doc.Version != "2.0" || !slices.Equal(urls, want) {
		t.Errorf("OPML %s with feeds %v, want 2.0 with %v", doc.Version, urls, want)
	}
}

func TestHTTP_Index(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	page := string(body(t, ts.get(t, "/")))
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" title="feedmux: world" href="https://feeds.example/tags/world.atom">`,
		`href="https://feeds.example/tags.opml"`,
		`href="https://feeds.example/tags/world.rss"`, `href="https://feeds.example/tags/world.json"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %s", want)
		}
	}
}

func TestHTTP_Stories(t *testing.T) {
	items := hostileItems()
	ts := newTestServer(t, items)
	// Group "cdata", "tie" and "podcast" into one story, as the poller would.
	ids := map[string]int64{}
	for after := int64(0); ; {
		rows, last, err := ts.db.RetagBatch(t.Context(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			break
		}
		for _, r := range rows {
			ids[r.Item.Title] = r.ID
		}
		after = last
	}
	root := ids["Episode 1 — Ελληνικά, العربية, 日本語"]
	if root == 0 {
		root = ids["Эпизод 1 — Ελληνικά, العربية, 日本語"]
	}
	if _, err := ts.db.SaveGrouping(t.Context(), feedmux.Grouping{Stories: map[int64]int64{
		ids["Content with ]]> inside"]: root, ids["Same time as another source"]: root,
	}}); err != nil {
		t.Fatal(err)
	}
	ts.Invalidate([]string{"world", "podcast"})
	var entries []string
	next := "/tags/world.atom?view=stories&limit=4"
	for next != "" {
		resp := ts.get(t, next)
		doc := body(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, doc)
		}
		checkOutput(t, formatAtom, testBase+next, doc)
		var f struct {
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				Title   string `xml:"title"`
				Content string `xml:"content"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal(doc, &f); err != nil {
			t.Fatal(err)
		}
		for _, e := range f.Entries {
			entries = append(entries, e.Title)
			if strings.HasPrefix(e.Title, "Эпизод 1") {
				for _, u := range []string{"https://b.example/ep1", "https://a.example/1", "https://b.example/tie"} {
					if !strings.Contains(e.Content, `href="`+u+`"`) {
						t.Errorf("story entry does not link member %s:\n%s", u, e.Content)
					}
				}
			}
		}
		next = ""
		for _, l := range f.Links {
			if l.Rel == "next" {
				next = strings.TrimPrefix(l.Href, testBase)
			}
		}
	}
	world := 0
	for _, it := range items {
		if slices.Contains(it.Tags, "world") {
			world++
		}
	}
	if len(entries) != world-2 {
		t.Errorf("%d story entries, want %d (the items of world, three of them one story): %q", len(entries), world-2, entries)
	}
	for _, bad := range []string{"?view=nope", "?view=stories&limit=0"} {
		if resp := ts.get(t, "/tags/world.atom"+bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
	page := string(body(t, ts.get(t, "/")))
	if !strings.Contains(page, "3 reports") || !strings.Contains(page, "view=stories") {
		t.Errorf("index does not show the story of the day or the stories links")
	}

	// Stories by default for world: its plain URLs serve the stories view,
	// ?view=items the items, a combined feed with a tag of items items,
	// and the index says which.
	ts.Configure(Config{BaseURL: testBase, MaxAge: time.Minute, Version: "test", Tags: map[string]TagInfo{"world": {View: ViewStories}}})
	count := func(target string) (int, string) {
		doc := body(t, ts.get(t, target))
		var f struct {
			Title   string     `xml:"title"`
			Entries []struct{} `xml:"entry"`
		}
		if err := xml.Unmarshal(doc, &f); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		return len(f.Entries), f.Title
	}
	if n, title := count("/tags/world.atom?limit=100"); n != world-2 || !strings.Contains(title, "(stories)") {
		t.Errorf("/tags/world.atom with view = stories: %d entries, title %q; want the %d stories", n, title, world-2)
	}
	if n, _ := count("/tags/world.atom?view=items&limit=100"); n != world {
		t.Errorf("/tags/world.atom?view=items: %d entries, want the %d items", n, world)
	}
	if n, title := count("/tags/world+podcast.atom?limit=100"); strings.Contains(title, "(stories)") || n < world {
		t.Errorf("a combined feed with a tag of items: %d entries, title %q; want its items", n, title)
	}
	page = string(body(t, ts.get(t, "/")))
	if !strings.Contains(page, "/tags/world.atom?view=items") || !strings.Contains(page, "one entry per story, every source listed</div>") {
		t.Errorf("the index does not say that world serves stories, nor link its items")
	}
}

func TestHTTP_Ready(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	ready := false
	ts.Ready = func() bool { return ready }
	if resp := ts.get(t, "/readyz"); resp.StatusCode != 503 {
		t.Errorf("/readyz before the first cycle: %d, want 503", resp.StatusCode)
	}
	ready = true
	if resp := ts.get(t, "/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz after the first cycle: %d, want 200", resp.StatusCode)
	}
	ts.db.Close()
	if resp := ts.get(t, "/readyz"); resp.StatusCode != 503 {
		t.Errorf("/readyz with the database closed: %d, want 503", resp.StatusCode)
	}
}

// TestCache_RenderInterval: changes within the render interval of a
// document's render are shown once the interval has passed, with one render.
func TestCache_RenderInterval(t *testing.T) {
	now := t0
	c := newCache(1 << 20)
	c.now = func() time.Time { return now }
	c.interval = time.Second
	renders := 0
	render := func() (*rendered, error) {
		renders++
		return newRendered("k", []string{"world"}, "text/plain", []byte(strconv.Itoa(renders)), t0), nil
	}
	c.get("k", render)
	now = now.Add(300 * time.Millisecond)
	c.invalidate([]string{"world"})
	c.invalidate([]string{"world"})
	if doc, hit, _ := c.get("k", render); !hit || string(doc.body) != "1" {
		t.Errorf("within the interval: hit %v, body %s; want the stale document", hit, doc.body)
	}
	now = now.Add(800 * time.Millisecond)
	if doc, hit, _ := c.get("k", render); hit || string(doc.body) != "2" {
		t.Errorf("after the interval: hit %v, body %s; want a new render", hit, doc.body)
	}
	now = now.Add(5 * time.Second)
	c.invalidate([]string{"world"}) // long after the render: dropped at once
	if doc, _, _ := c.get("k", render); string(doc.body) != "3" || renders != 3 {
		t.Errorf("a change long after the render: body %s after %d renders, want 3", doc.body, renders)
	}
	c.invalidate([]string{"sport"})
	if _, hit, _ := c.get("k", render); !hit {
		t.Errorf("a change of another tag made the document stale")
	}
}
