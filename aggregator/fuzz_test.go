package aggregator

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedmux/feedmux"
	"golang.org/x/net/html"
)

// FuzzBodyToItems feeds any bytes through the path a fetched body takes:
// stray gzip, charset to UTF-8, parse (with salvage and JSON repair),
// normalize, sanitize, tag. Nothing may panic, and every item must be
// what storage and output rely on: a key, valid UTF-8 free of characters
// XML forbids, absolute http(s) links, HTML without anything active.
// Seeded with the real-world corpus.
func FuzzBodyToItems(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*")
	for _, path := range files {
		if strings.HasSuffix(path, ".tsv") || strings.HasSuffix(path, ".md") {
			continue
		}
		if data, err := os.ReadFile(path); err == nil && len(data) < 16<<10 {
			f.Add(data, "")
		}
	}
	f.Add([]byte(`<rss version="2.0"><channel><item><title>&lt;b&gt;x</title><link>/a</link><description>&lt;script&gt;1&lt;/script&gt;</description></item></channel></rss>`), "text/xml; charset=iso-8859-1")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","content_html":"<a href=javascript:x>y</a>","tags":"one"}]}`), "application/feed+json")
	base, _ := url.Parse("https://fuzz.example/feed.xml")
	tagger, err := NewTagger(Rules{Aliases: map[string][]string{"world": {"World"}}, Topics: []Topic{{Tag: "t", Match: []string{"gaza"}, Regex: []string{`(?i)x+`}}}})
	if err != nil {
		f.Fatal(err)
	}
	feed := feedmux.Feed{URL: base.String(), Tags: []string{"fuzz"}, Categories: true}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		body, doc, _, err := decodeFeed(body, contentType, 1<<20)
		if body != nil && !utf8.Valid(body) {
			t.Fatalf("decodeFeed decoded to invalid UTF-8")
		}
		if err != nil {
			return
		}
		for _, it := range normalize(feed, doc, base, t0, tagger, nil) {
			if it.Key == "" {
				t.Fatalf("item without a key: %+v", it)
			}
			for _, s := range []string{it.Title, it.Author, it.Summary, it.Content} {
				if !utf8.ValidString(s) || feedmux.XMLText(s) != s {
					t.Fatalf("text not clean UTF-8 for XML: %q", s)
				}
			}
			for _, u := range append([]string{it.URL}, enclosureURLs(it)...) {
				if u != "" && !isHTTPURL(u) {
					t.Fatalf("link %q is not an absolute http(s) URL", u)
				}
			}
			for _, h := range []string{it.Summary, it.Content} {
				if msg := activeHTML(h); msg != "" {
					t.Fatalf("stored HTML %q: %s", h, msg)
				}
			}
			for _, tag := range it.Tags {
				if !feedmux.ValidTag(tag) {
					t.Fatalf("invalid tag %q", tag)
				}
			}
		}
	})
}

func enclosureURLs(it feedmux.Item) []string {
	var out []string
	for _, e := range it.Enclosures {
		out = append(out, e.URL)
	}
	return out
}

// activeHTML parses HTML as a browser would and names what in it could run.
func activeHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "object", "embed", "form", "base", "meta", "link":
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" ||
					strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") {
					return "attribute " + a.Key + "=" + a.Val
				}
			}
		}
	}
}
