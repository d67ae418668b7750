package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmux/feedmux/server/servertest"
)

// corpusDir holds the real-world feed documents the aggregator's tests use.
const corpusDir = "../../aggregator/testdata/corpus"

// TestOutput_Corpus ingests every document of the real-world corpus and
// the hostile test feeds with the whole daemon, then holds every tag's
// feed, in every format, to the validation rules: the W3C validator's
// points (servertest.Check) on all of them, and jing and feedparser on
// every page of the tags that hold the hostile and the most varied items.
func TestOutput_Corpus(t *testing.T) {
	base, tags := startCorpus(t)
	if len(tags) < 50 {
		t.Fatalf("%d tags after ingesting the corpus, want the many its categories make", len(tags))
	}
	checked := 0
	for _, tag := range tags {
		tagURL := base + "/tags/" + tag
		full := strings.HasSuffix(tagURL, "/hostile") || strings.HasSuffix(tagURL, "/everything")
		for _, format := range []string{"atom", "rss", "json"} {
			next := tagURL + "." + format
			if full {
				next += "?limit=500"
			}
			for next != "" {
				resp, body := get(t, next)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %s", next, resp.Status)
				}
				checkServed(t, format, next, body, full)
				checked++
				next = ""
				if full {
					next = nextLink(t, format, body)
				}
			}
		}
	}
	t.Logf("%d tags, %d documents checked", len(tags), checked)
}

// startCorpus runs the daemon on every document of the real-world corpus
// and the hostile test feeds (tagged "everything", the hostile ones
// "hostile" too) and returns its base URL and its public tags, from its
// OPML list.
func startCorpus(t *testing.T) (base string, tags []string) {
	t.Helper()
	files := http.FileServer(http.Dir(corpusDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hostile.") {
			http.ServeFile(w, r, filepath.Join("testdata", filepath.Base(r.URL.Path)))
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[server]\nlisten = \"127.0.0.1:0\"\n\n[poll]\ninterval = \"1h\"\nconcurrency = 8\nper_host = 8\ntimeout = \"10s\"\n")
	for _, name := range []string{"hostile.rss", "hostile.atom"} {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = %q\ntags = [\"hostile\", \"everything\"]\n", srv.URL+"/"+name)
	}
	for _, name := range corpusFiles(t) {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = %q\ntags = [\"everything\"]\n", srv.URL+"/"+name)
	}
	config := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	base = "http://" + m.Server.Addr().String()

	_, opml := get(t, base+"/tags.opml")
	var doc struct {
		Outlines []struct {
			XMLURL string `xml:"xmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(opml, &doc); err != nil {
		t.Fatal(err)
	}
	for _, o := range doc.Outlines {
		tags = append(tags, strings.TrimSuffix(strings.TrimPrefix(o.XMLURL, base+"/tags/"), ".atom"))
	}
	return base, tags
}

// checkServed holds one served document to the rules; external validators
// run only where full is set, as they take a process each.
func checkServed(t *testing.T, format, url string, body []byte, full bool) {
	t.Helper()
	servertest.Check(t, format, url, body, time.Now())
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`),
		regexp.MustCompile(`(?i)\son[a-z]{3,}=["'&]`), // an event handler, escaped or not
	} {
		if loc := bad.FindIndex(body); loc != nil {
			t.Errorf("%s contains %q: ...%s...", url, body[loc[0]:loc[1]], body[max(0, loc[0]-80):min(len(body), loc[1]+80)])
		}
	}
	if !full {
		return
	}
	switch format {
	case "atom":
		servertest.Jing(t, body)
		servertest.Feedparser(t, body)
	case "rss":
		servertest.Feedparser(t, body)
	}
}

// nextLink returns a document's rel="next" URL, or "".
func nextLink(t *testing.T, format string, body []byte) string {
	if format == "json" {
		var j struct {
			NextURL string `json:"next_url"`
		}
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		return j.NextURL
	}
	m := regexp.MustCompile(`<(?:atom:)?link href="([^"]+)" rel="next"`).FindSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(string(m[1]), "&amp;", "&")
}

// corpusFiles lists the documents of the corpus manifest.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "\t")
		if name != "" && name != "file" && !strings.HasPrefix(name, "#") {
			names = append(names, name)
		}
	}
	return names
}

// TestOutput_ETagFollowsPolls: through the wired daemon, a tag's feed keeps
// its ETag while polls bring nothing for it, and changes it in the poll
// that brings a new item.
func TestOutput_ETagFollowsPolls(t *testing.T) {
	var mu sync.Mutex
	items := map[string][]string{"x": {"one"}, "y": {"one"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		name := strings.TrimPrefix(r.URL.Path, "/")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>d</description>`, name, name)
		for i, title := range items[name] {
			fmt.Fprintf(w, `<item><title>%s</title><link>https://%s.example/%d</link><pubDate>Tue, 26 Mar 2024 1%d:00:00 +0000</pubDate></item>`, title, name, i, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	cfg := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\n[poll]\ninterval = \"1h\"\n\n[[feed]]\nurl = %q\ntags = [\"x\"]\n\n[[feed]]\nurl = %q\ntags = [\"y\"]\n", srv.URL+"/x", srv.URL+"/y")
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	feedX, feedY := m.Config.FeedList()[0], m.Config.FeedList()[1]
	url := "http://" + m.Server.Addr().String() + "/tags/x.atom"
	conditional := func(etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp, _ := get(t, url)
	etag := resp.Header.Get("ETag")
	if got := conditional(etag); got.StatusCode != 304 {
		t.Fatalf("unchanged feed: %d, want 304", got.StatusCode)
	}

	mu.Lock()
	items["y"] = append(items["y"], "two")
	mu.Unlock()
	if _, err := m.Poller.Poll(t.Context(), feedY); err != nil {
		t.Fatal(err)
	}
	if got := conditional(etag); got.StatusCode != 304 {
		t.Errorf("after a poll that changed another tag: %d, want 304", got.StatusCode)
	}

	mu.Lock()
	items["x"] = append(items["x"], "two")
	mu.Unlock()
	if _, err := m.Poller.Poll(t.Context(), feedX); err != nil {
		t.Fatal(err)
	}
	// A feed is rendered at most once a second (render_interval): the new
	// ETag shows within it.
	waitFor(t, "a new ETag after a poll that added an item of the tag", func() bool {
		got := conditional(etag)
		return got.StatusCode == 200 && got.Header.Get("ETag") != etag
	})
}
