package server

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

func searchItems() []feedmux.Item {
	a := feedmux.Source{URL: "https://a.example/feed.xml", Title: "A", SiteURL: "https://a.example/"}
	b := feedmux.Source{URL: "https://b.example/rss", Title: "B", SiteURL: "https://b.example/"}
	at := func(m int) time.Time { return t0.Add(-time.Duration(m) * time.Minute) }
	return []feedmux.Item{
		{Key: "both", URL: "https://a.example/both", Title: "Haniyeh arrives in Tehran",
			Content: "<p>A visit.</p>", Published: at(1), Tags: []string{"middle-east"}, Source: a},
		{Key: "haniyeh", URL: "https://a.example/haniyeh", Title: "Haniyeh speaks",
			Content: "<p>In Doha, on the <b>ceasefire talks</b>.</p>", Published: at(2), Tags: []string{"middle-east"}, Source: a},
		{Key: "tehran", URL: "https://a.example/tehran", Title: "Tehran traffic",
			Content: "<p>Jams.</p>", Published: at(3), Tags: []string{"iran"}, Source: a},
		{Key: "talks", URL: "https://b.example/talks", Title: "Ceasefire talks resume in Cairo",
			Summary: "Mediators meet again", Published: at(4), Tags: []string{"middle-east"}, Source: b},
		{Key: "secret", URL: "https://b.example/secret", Title: "Ceasefire talks: a leak from Tehran",
			Content: "<p>Internal.</p>", Published: at(5), Tags: []string{"middle-east", "security"}, Source: b},
		{Key: "private", URL: "https://b.example/private", Title: "Tehran security briefing",
			Content: "<p>Only for us.</p>", Published: at(6), Tags: []string{"security"}, Source: b},
	}
}

// searchEntries fetches target, checks its status and output, and returns
// the links of its entries in order, without their host.
func searchEntries(t *testing.T, ts *testServer, target string) []string {
	t.Helper()
	resp := ts.get(t, target)
	doc := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, doc)
	}
	checkOutput(t, formatAtom, testBase+target, doc)
	var feed struct {
		Entries []struct {
			Link struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(doc, &feed); err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, e := range feed.Entries {
		links = append(links, strings.TrimPrefix(strings.TrimPrefix(e.Link.Href, "https://a.example/"), "https://b.example/"))
	}
	return links
}

func TestHTTP_Search(t *testing.T) {
	ts := newTestServer(t, searchItems())
	const token = "0123456789abcdef0123"
	ts.Configure(Config{BaseURL: testBase, MaxAge: time.Minute, PrivateTags: []string{"security"}, Token: token})
	for _, tc := range []struct {
		name, q, extra string
		want           []string
	}{
		{"both words", "Haniyeh Tehran", "", []string{"both"}},
		{"phrase without a word", `"ceasefire talks" -Haniyeh`, "", []string{"talks"}},
		{"or", "doha OR cairo", "", []string{"haniyeh", "talks"}},
		{"tag", "tehran", "&tag=iran", []string{"tehran"}},
		{"private hidden", "tehran", "", []string{"both", "tehran"}},
		{"private with the token", "tehran", "&token=" + token, []string{"both", "tehran", "secret", "private"}},
		{"private tag with the token", "tehran", "&tag=security&token=" + token, []string{"secret", "private"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/search.atom?q=" + url.QueryEscape(tc.q) + tc.extra
			if got := searchEntries(t, ts, target); !slices.Equal(got, tc.want) {
				t.Errorf("GET %s: entries %q, want %q", target, got, tc.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var got []string
		next := "/search.atom?q=tehran+OR+ceasefire&limit=2"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			got = append(got, searchEntries(t, ts, next)...)
			resp := ts.get(t, next)
			var f struct {
				Links []struct {
					Rel  string `xml:"rel,attr"`
					Href string `xml:"href,attr"`
				} `xml:"link"`
			}
			if err := xml.Unmarshal(body(t, resp), &f); err != nil {
				t.Fatal(err)
			}
			next = ""
			for _, l := range f.Links {
				if l.Rel == "next" {
					next = strings.TrimPrefix(l.Href, testBase)
				}
			}
		}
		if want := []string{"both", "haniyeh", "tehran", "talks"}; !slices.Equal(got, want) {
			t.Errorf("walking the pages: %q, want %q", got, want)
		}
	})

	t.Run("the feed", func(t *testing.T) {
		for _, format := range []string{formatAtom, formatRSS, formatJSON} {
			target := "/search." + format + "?q=Tehran+haniyeh"
			resp := ts.get(t, target)
			doc := body(t, resp)
			if resp.StatusCode != 200 || !bytes.Contains(doc, []byte("search “tehran haniyeh”")) {
				t.Errorf("GET %s: %d, want 200 titled search “tehran haniyeh”:\n%s", target, resp.StatusCode, doc)
			}
			checkOutput(t, format, testBase+target, doc)
		}
		id := func(target string) string {
			var f struct {
				ID string `xml:"id"`
			}
			xml.Unmarshal(body(t, ts.get(t, target)), &f)
			return f.ID
		}
		same, other := id("/search.atom?q=Tehran++haniyeh"), id("/search.atom?q=tehran+haniyeh&tag=iran")
		if want := feedmux.TagFeedID("search/tehran haniyeh"); same != want || other == want {
			t.Errorf("feed ids %q and (with a tag) %q, want %q and another", same, other, want)
		}
	})

	t.Run("private tags", func(t *testing.T) {
		for _, target := range []string{"/search.atom?q=tehran&tag=security", "/search.atom?q=tehran&tag=security&token=wrong"} {
			if resp := ts.get(t, target); resp.StatusCode != 404 {
				t.Errorf("GET %s: %d, want 404", target, resp.StatusCode)
			}
		}
		if b := body(t, ts.get(t, "/search.atom?q=ceasefire")); bytes.Contains(b, []byte("security")) {
			t.Errorf("a search without the token names the private tag:\n%s", b)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct{ query, says string }{
			{`q="unbalanced`, "not closed"},
			{"q=", "empty"},
			{"", "empty"},
			{"q=-haniyeh", "only excludes"},
			{"q=a+OR", "both sides"},
			{"q=" + strings.Repeat("word+", 100), "too long"},
			{"q=tehran&view=stories", "items only"},
			{"q=tehran&limit=0", "limit"},
		} {
			resp := ts.get(t, "/search.atom?"+tc.query)
			if b := body(t, resp); resp.StatusCode != 400 || !bytes.Contains(b, []byte(tc.says)) {
				t.Errorf("GET /search.atom?%s: %d %q, want 400 saying %q", tc.query, resp.StatusCode, b, tc.says)
			}
		}
		for _, target := range []string{"/search.atom?q=x&tag=Nope", "/search.atom?q=x&tag=nope", "/search.html?q=x"} {
			if resp := ts.get(t, target); resp.StatusCode != 404 {
				t.Errorf("GET %s: %d, want 404", target, resp.StatusCode)
			}
		}
	})

	t.Run("cached and invalidated", func(t *testing.T) {
		before := ts.db.queries.Load()
		ts.get(t, "/search.atom?q=kestrel")
		ts.get(t, "/search.atom?q=kestrel")
		if n := ts.db.queries.Load() - before; n != 1 {
			t.Errorf("two requests made %d queries, want 1 (the second from the cache)", n)
		}
		ts.add(t, feedmux.Item{Key: "new", URL: "https://a.example/new", Title: "Kestrel spotted", Published: t0})
		if got := searchEntries(t, ts, "/search.atom?q=kestrel"); !slices.Equal(got, []string{"new"}) {
			t.Errorf("after a new item: %q, want [new]", got)
		}
	})
}
