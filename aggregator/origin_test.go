package aggregator_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestPoller_AggregatorItems: an item that names its publisher (Google
// News's <source>, Bing News's News:Source) keeps the publisher as its
// origin and author, loses the publisher's name from its title, and a Bing
// redirect gives way to the article's own link; a title that only ends
// with a dash and a word keeps it.
func TestPoller_AggregatorItems(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		"/google.rss": `<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title><link>https://news.google.com</link><description>d</description>
<item><title>Security Council demands immediate ceasefire in Gaza for Ramadan - Al Jazeera English</title>
<link>https://news.google.com/rss/articles/CBMiWmh0dHBzOi8v?oc=5</link><guid isPermaLink="false">CBMiWmh0dHBzOi8v</guid>
<pubDate>Mon, 25 Mar 2024 15:09:00 GMT</pubDate><source url="https://www.aljazeera.com">Al Jazeera English</source></item>
<item><title>Lakers win again - analysis</title><link>https://news.google.com/rss/articles/CBMiLakers?oc=5</link>
<pubDate>Mon, 25 Mar 2024 15:00:00 GMT</pubDate><source url="https://www.espn.com">ESPN</source></item>
</channel></rss>`,
		"/bing.rss": `<?xml version="1.0"?><rss version="2.0" xmlns:News="https://www.bing.com:443/news/search?q=gaza&amp;format=rss"><channel><title>gaza - BingNews</title><link>https://www.bing.com/news</link><description>d</description>
<item><title>Israel and Hamas resume talks in Doha | Reuters</title>
<link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=abc&amp;url=https%3a%2f%2fwww.reuters.com%2fworld%2fmiddle-east%2ftalks-doha-2024-03-25%2f&amp;c=1&amp;mkt=en-us</link>
<pubDate>Mon, 25 Mar 2024 14:00:00 GMT</pubDate><News:Source>Reuters</News:Source></item>
</channel></rss>`,
		"/blog.rss": `<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>https://blog.example/</link><description>d</description>
<item><title>Lakers win again - analysis</title><link>https://blog.example/lakers</link><pubDate>Mon, 25 Mar 2024 13:00:00 GMT</pubDate></item>
</channel></rss>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	for path := range docs {
		if _, err := p.Poll(t.Context(), feedmux.Feed{URL: srv.URL + path, Tags: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := db.Items(t.Context(), feedmux.ItemFilter{Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	type stored struct{ title, url, author, origin, site string }
	got := map[string]stored{}
	for _, it := range items {
		got[it.Source.URL+" "+it.Title] = stored{it.Title, it.URL, it.Author, it.Origin.Title, it.Origin.SiteURL}
	}
	for key, want := range map[string]stored{
		srv.URL + "/google.rss Security Council demands immediate ceasefire in Gaza for Ramadan": {
			"Security Council demands immediate ceasefire in Gaza for Ramadan",
			"https://news.google.com/rss/articles/CBMiWmh0dHBzOi8v?oc=5", "Al Jazeera English", "Al Jazeera English", "https://www.aljazeera.com"},
		srv.URL + "/google.rss Lakers win again - analysis": {
			"Lakers win again - analysis", "https://news.google.com/rss/articles/CBMiLakers?oc=5", "ESPN", "ESPN", "https://www.espn.com"},
		srv.URL + "/bing.rss Israel and Hamas resume talks in Doha": {
			"Israel and Hamas resume talks in Doha", "https://www.reuters.com/world/middle-east/talks-doha-2024-03-25/",
			"Reuters", "Reuters", "https://www.reuters.com/"},
		srv.URL + "/blog.rss Lakers win again - analysis": {
			"Lakers win again - analysis", "https://blog.example/lakers", "", "", ""},
	} {
		if got[key] != want {
			t.Errorf("%s: stored %+v, want %+v", key, got[key], want)
		}
	}
	if len(items) != 4 {
		t.Errorf("%d items stored, want 4", len(items))
	}
}

// TestPoller_GoogleNewsCorpus: the corpus's Google News feed (38 items of
// 2022, each naming its publisher) is stored with every publisher, titles
// without the publisher's name, and the publishers' own links read out of
// Google's article ids.
func TestPoller_GoogleNewsCorpus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/corpus")))
	defer srv.Close()
	p, db := newPoller(t)
	p.Now = time.Now // the feed is of 2022
	feed := feedmux.Feed{URL: srv.URL + "/rss2-google-news-top-stories.xml", Tags: []string{"news"}}
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(t.Context(), feedmux.ItemFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 38 {
		t.Fatalf("%d items stored, want 38", len(items))
	}
	google := 0
	for _, it := range items {
		if it.Origin.Title == "" || it.Author != it.Origin.Title || strings.HasSuffix(it.Title, " - "+it.Origin.Title) {
			t.Errorf("%q: origin %+v, author %q: want the publisher named and its name off the title", it.Title, it.Origin, it.Author)
		}
		if strings.Contains(it.URL, "news.google.com") {
			google++
		}
	}
	want := "https://www.cnn.com/2022/07/27/politics/schumer-manchin-deal-build-back-better/index.html"
	if !slices.ContainsFunc(items, func(it feedmux.Item) bool {
		return it.URL == want && it.Title == "In a major boost to Democrats, Manchin and Schumer announce deal for energy and health care bill"
	}) {
		t.Errorf("no item links to %s under its headline without \" - CNN\"", want)
	}
	if google > 0 {
		t.Errorf("%d of 38 items still link to news.google.com, want each publisher's own link", google)
	}
}
