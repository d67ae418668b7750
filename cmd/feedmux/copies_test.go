package main

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAggregatorCopy is the case over HTTP: Google News's item
// ("… - Al Jazeera English", a news.google.com redirect, <source>) and Al
// Jazeera's own, 11 minutes apart, are one entry of the tag feed, linking
// to Al Jazeera and naming both feeds; Google's item of another publisher
// is shown with that publisher as its author and source.
func TestAggregatorCopy(t *testing.T) {
	docs := map[string]string{
		"/google": `<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title><link>https://news.google.com</link><description>d</description>
<item><title>Security Council demands immediate ceasefire in Gaza for Ramadan - Al Jazeera English</title>
<link>https://news.google.com/rss/articles/CBMiWmh0dHBzOi8v?oc=5</link><guid isPermaLink="false">CBMiWmh0dHBzOi8v</guid>
<pubDate>Mon, 25 Mar 2024 15:20:00 GMT</pubDate><source url="https://www.aljazeera.com">Al Jazeera English</source></item>
<item><title>Aid convoy reaches northern Gaza - Reuters</title>
<link>https://news.google.com/rss/articles/CBMiReuters?oc=5</link><guid isPermaLink="false">CBMiReuters</guid>
<pubDate>Mon, 25 Mar 2024 12:00:00 GMT</pubDate><source url="https://www.reuters.com">Reuters</source></item>
</channel></rss>`,
		"/aljazeera": `<?xml version="1.0"?><rss version="2.0"><channel><title>Al Jazeera</title><link>https://www.aljazeera.com</link><description>d</description>
<item><title>Security Council demands immediate ceasefire in Gaza for Ramadan</title>
<link>https://www.aljazeera.com/news/2024/3/25/un-security-council-demands-ceasefire</link>
<pubDate>Mon, 25 Mar 2024 15:09:00 GMT</pubDate></item>
</channel></rss>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(docs[r.URL.Path]))
	}))
	t.Cleanup(srv.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	doc := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\n[[feed]]\nurl = %q\ntags = [\"gaza\"]\n\n[[feed]]\nurl = %q\ntags = [\"gaza\"]\n",
		srv.URL+"/google", srv.URL+"/aljazeera")
	if err := os.WriteFile(config, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	resp, body := get(t, "http://"+m.Server.Addr().String()+"/tags/gaza.atom?view=items")
	if resp.StatusCode != 200 {
		t.Fatalf("/tags/gaza.atom: %s", resp.Status)
	}
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
			Link  struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Author  string `xml:"author>name"`
			Source  string `xml:"source>title"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Entries) != 2 {
		t.Fatalf("%d entries, want the ceasefire report once and Reuters's: %s", len(feed.Entries), body)
	}
	for _, e := range feed.Entries {
		switch e.Title {
		case "Security Council demands immediate ceasefire in Gaza for Ramadan":
			if !strings.HasPrefix(e.Link.Href, "https://www.aljazeera.com/news/") || e.Source != "Al Jazeera" ||
				!strings.Contains(e.Content, "Also from") || !strings.Contains(e.Content, "Google News") {
				t.Errorf("the ceasefire report: %+v, want Al Jazeera's link and source, naming Google News too", e)
			}
		case "Aid convoy reaches northern Gaza":
			if e.Author != "Reuters" || e.Source != "Reuters via Google News" {
				t.Errorf("Google's Reuters item: %+v, want Reuters as author and source", e)
			}
		default:
			t.Errorf("unexpected entry %q", e.Title)
		}
	}
}
