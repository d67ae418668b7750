package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedmux/feedmux/aggregator/articletest"
)

// jsonItem is an item of a JSON Feed as the content tests read it.
type jsonItem struct {
	URL           string   `json:"url"`
	Title         string   `json:"title"`
	Summary       string   `json:"summary"`
	ContentHTML   string   `json:"content_html"`
	DatePublished string   `json:"date_published"`
	Tags          []string `json:"tags"`
	Authors       []struct {
		Name string `json:"name"`
	} `json:"authors"`
}

// readJSONFeed reads every page of a JSON Feed, following next_url.
func readJSONFeed(t *testing.T, url string) []jsonItem {
	t.Helper()
	var items []jsonItem
	for url != "" {
		resp, body := get(t, url)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", url, resp.Status)
		}
		var doc struct {
			Items   []jsonItem `json:"items"`
			NextURL string     `json:"next_url"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		items = append(items, doc.Items...)
		url = doc.NextURL
	}
	return items
}

// startContent starts the daemon on config (the feeds.toml text, with
// listen added) and waits until no article page waits any more.
func startContent(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(path, []byte("[server]\nlisten = \"127.0.0.1:0\"\n"+config), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, path, filepath.Join(t.TempDir(), "feedmux.db"))
	base := "http://" + m.Server.Addr().String()
	waitFor(t, "every article page fetched", func() bool {
		_, page := get(t, base+"/metrics")
		n, ok := metricValue(t, page, "feedmux_pages_waiting", nil)
		return ok && n == 0
	})
	return base
}

// TestFullContent_ArticleCorpus is the measure: a feed whose items
// link to the 70 pages of the article corpus, served from loopback, with
// full_content on; the article text read back from /tags/….json scores
// F1 0.95 or more with the benchmark's metric.
func TestFullContent_ArticleCorpus(t *testing.T) {
	pages, err := articletest.Load("../../aggregator/testdata/articles")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]articletest.Page{}
	for _, p := range pages {
		byKey[p.Key] = p
	}
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch key, isPage := strings.CutPrefix(r.URL.Path, "/pages/"); {
		case r.URL.Path == "/feed.rss":
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Corpus</title><link>` + srvURL + `/</link><description>d</description>`)
			for _, p := range pages {
				fmt.Fprintf(&b, "<item><title>Page %s</title><link>%s/pages/%s</link><description>Only a summary.</description></item>\n", p.Key[:8], srvURL, p.Key)
			}
			b.WriteString(`</channel></rss>`)
			w.Write([]byte(b.String()))
		case isPage && byKey[key].HTML != nil:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(byKey[key].HTML)
		default:
			http.NotFound(w, r) // robots.txt too: no rules
		}
	}))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	base := startContent(t, fmt.Sprintf("[content]\nallow_networks = [\"127.0.0.1/32\"]\n[[feed]]\nurl = %q\ntags = [\"corpus\"]\nfull_content = true\n", srv.URL+"/feed.rss"))
	items := readJSONFeed(t, base+"/tags/corpus.json")
	var truth, got []string
	for _, it := range items {
		key := strings.TrimPrefix(it.URL, srv.URL+"/pages/")
		if byKey[key].HTML == nil {
			t.Fatalf("item %q links to %s, not a corpus page", it.Title, it.URL)
		}
		if it.Summary != "Only a summary." {
			t.Errorf("%s: summary %q, want the feed's own", key[:8], it.Summary)
		}
		truth = append(truth, byKey[key].Truth)
		got = append(got, articletest.Text(it.ContentHTML))
	}
	p, r, f1 := articletest.Score(truth, got)
	t.Logf("article corpus through the daemon: P %.3f R %.3f F1 %.3f over %d items", p, r, f1, len(items))
	if len(items) != len(pages) || f1 < 0.95 {
		t.Errorf("F1 %.3f over %d items, want at least 0.95 over %d", f1, len(items), len(pages))
	}
}
