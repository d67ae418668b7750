package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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
	Attachments []struct {
		URL string `json:"url"`
	} `json:"attachments"`
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

// lbciPage is an article page like LBCI's reports: navigation, share
// buttons and a footer around the article, its topics in a keywords meta
// and in JSON-LD, no author or date in the feed.
const lbciPage = `<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Hamas delegation meets Iranian officials over Gaza truce - LBCI</title>
<meta name="keywords" content="Middle East News, Hamas, Iran, Gaza">
<meta property="og:image" content="/images/hamas-iran.jpg">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Hamas delegation meets Iranian officials over Gaza truce","articleSection":"News Bulletin Reports",
"keywords":["Hamas","Gaza"],"datePublished":"2024-03-26T13:25:00+02:00","author":{"@type":"Person","name":"LBCI"}}</script>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sports">Sports</a></li><li><a href="/live">Watch live</a></li></ul></nav></header>
<main><article>
<h1>Hamas delegation meets Iranian officials over Gaza truce</h1>
<div class="share-buttons"><a href="https://facebook.com/share">Share on Facebook</a> <a href="https://x.com/share">Share on X</a></div>
<p>A Hamas delegation led by the head of its political bureau met senior Iranian officials in Tehran on Tuesday to discuss the negotiations over a truce in Gaza and the exchange of prisoners.</p>
<p>The talks, which lasted several hours, covered the humanitarian situation in the Gaza Strip, where aid agencies warn of famine, and the positions of the mediators in Qatar and Egypt on a ceasefire proposal.</p>
<p>Iran's foreign minister said after the meeting that his country supported any agreement that ends the war and lifts the siege, while warning against an expansion of the conflict to the wider region.</p>
<p>The delegation is expected to travel on to Doha later this week, where negotiators from both sides have been meeting through intermediaries since the beginning of the month.</p>
</article></main>
<footer><p>Copyright 2024 LBCI Lebanon. All rights reserved.</p><p>Privacy policy · Terms of use · Contact us</p></footer>
</body></html>`

// TestFullContent_LBCI: the page's topics become the item's tags (through
// slugs), and the served content is the article without navigation, share
// buttons or footer; the page's date and image fill what the feed left out.
func TestFullContent_LBCI(t *testing.T) {
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rss":
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>LBCI</title><link>%[1]s/</link><description>d</description>
<item><title>Hamas delegation meets Iranian officials over Gaza truce</title><link>%[1]s/news/hamas-iran</link>
<description>A Hamas delegation met Iranian officials.</description></item></channel></rss>`, srvURL)
		case "/news/hamas-iran":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(lbciPage))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	base := startContent(t, fmt.Sprintf("[content]\nallow_networks = [\"127.0.0.1/32\"]\n[[feed]]\nurl = %q\ntags = [\"lbci\"]\nfull_content = true\n", srv.URL+"/rss"))
	items := readJSONFeed(t, base+"/tags/lbci.json")
	if len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	it := items[0]
	for _, tag := range []string{"lbci", "middle-east-news", "hamas", "iran", "gaza", "news-bulletin-reports"} {
		if !slices.Contains(it.Tags, tag) {
			t.Errorf("tags %v, want %s among them", it.Tags, tag)
		}
	}
	for _, tag := range []string{"middle-east-news", "news-bulletin-reports"} {
		if got := readJSONFeed(t, base+"/tags/"+tag+".json"); len(got) != 1 {
			t.Errorf("/tags/%s.json has %d items, want the report", tag, len(got))
		}
	}
	text := articletest.Text(it.ContentHTML)
	for _, want := range []string{"met senior Iranian officials in Tehran", "travel on to Doha later this week"} {
		if !strings.Contains(text, want) {
			t.Errorf("content lacks %q: %s", want, it.ContentHTML)
		}
	}
	for _, unwanted := range []string{"Watch live", "Share on Facebook", "All rights reserved", "Privacy policy"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("content holds %q, which is not the article: %s", unwanted, it.ContentHTML)
		}
	}
	if it.DatePublished != "2024-03-26T11:25:00Z" || len(it.Authors) == 0 || it.Authors[0].Name != "LBCI" {
		t.Errorf("date %q, authors %+v: want the page's", it.DatePublished, it.Authors)
	}
	if len(it.Attachments) != 1 || it.Attachments[0].URL != srv.URL+"/images/hamas-iran.jpg" {
		t.Errorf("attachments %+v, want the page's og:image", it.Attachments)
	}
	if it.Summary != "A Hamas delegation met Iranian officials." {
		t.Errorf("summary %q, want the feed's", it.Summary)
	}
}

// TestFullContent_Guard: an item linking to an address outside
// allow_networks (127.0.0.2, when only 127.0.0.1 is allowed) is never
// fetched, and neither is a page robots.txt disallows; both items keep what
// their feed gave, and the pages count as failed.
func TestFullContent_Guard(t *testing.T) {
	var private atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("a second loopback address is needed: %v", err)
	}
	hidden := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		private.Add(1)
		w.Write([]byte(lbciPage))
	}))
	hidden.Listener.Close()
	hidden.Listener = ln
	hidden.Start()
	t.Cleanup(hidden.Close)
	var disallowed atomic.Int32
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/rss":
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>S</title><link>%[1]s/</link><description>d</description>
<item><title>Inside</title><link>%[2]s/internal/report</link><description>What the feed says of the inside.</description></item>
<item><title>Disallowed</title><link>%[1]s/private/report</link><description>What the feed says of the private page.</description></item>
</channel></rss>`, srvURL, hidden.URL)
		case r.URL.Path == "/robots.txt":
			io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
		case strings.HasPrefix(r.URL.Path, "/private/"):
			disallowed.Add(1)
			w.Write([]byte(lbciPage))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	base := startContent(t, fmt.Sprintf("[content]\nallow_networks = [\"127.0.0.1/32\"]\n[[feed]]\nurl = %q\ntags = [\"s\"]\nfull_content = true\n", srv.URL+"/rss"))
	items := readJSONFeed(t, base+"/tags/s.json")
	if len(items) != 2 {
		t.Fatalf("%d items, want both kept", len(items))
	}
	for _, it := range items {
		if !strings.HasPrefix(it.ContentHTML, "What the feed says") {
			t.Errorf("%s: content %q, want the feed's", it.Title, it.ContentHTML)
		}
	}
	if n, m := private.Load(), disallowed.Load(); n != 0 || m != 0 {
		t.Errorf("%d requests reached 127.0.0.2 and %d the page robots.txt disallows, want none", n, m)
	}
	_, page := get(t, base+"/metrics")
	if n, _ := metricValue(t, page, "feedmux_pages_total", map[string]string{"result": "failed"}); n != 2 {
		t.Errorf("feedmux_pages_total{result=failed} = %v, want 2", n)
	}
	_, status := get(t, base+"/feeds.json")
	if !strings.Contains(string(status), `"failed": 2`) {
		t.Errorf("/feeds.json does not count the 2 failed pages: %s", status)
	}
}

// TestScrape: an HTML listing page without a feed becomes a source whose
// three items have absolute links, dates and summaries; a page where the
// items selector matches nothing is a failed poll that says so.
func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/news/category/1/news-bulletin-reports/en":
			io.WriteString(w, `<!DOCTYPE html><html><head><title>News Bulletin Reports</title></head><body>
<nav><a href="/">Home</a></nav>
<div class="news-item"><h3>Ceasefire talks resume in Doha</h3><a href="/news/1/ceasefire-talks">Read</a>
<time datetime="2024-03-26T13:25:00+02:00">26 March</time><p class="lead">Negotiators <b>met</b> again on Tuesday.</p></div>
<div class="news-item"><h3>Power cuts across the south</h3><a href="news/2/power-cuts">Read</a>
<time datetime="2024-03-26 11:00">26 March</time><p class="lead">Electricité du Liban cut supply.</p></div>
<div class="news-item"><h3>Parliament meets on the budget</h3><a href="https://other.example/budget">Read</a>
<time datetime="Tue, 26 Mar 2024 09:30:00 GMT">26 March</time><p class="lead">The session lasted five hours.</p></div>
</body></html>`)
		default:
			io.WriteString(w, `<!DOCTYPE html><html><body><p>Nothing here.</p></body></html>`)
		}
	}))
	t.Cleanup(srv.Close)
	listing := srv.URL + "/news/category/1/news-bulletin-reports/en"
	config := fmt.Sprintf(`[[feed]]
url = %q
title = "LBCI: News Bulletin Reports"
tags = ["lbci"]
[feed.scrape]
items = "div.news-item"
title = "h3"
link = "a@href"
date = "time@datetime"
summary = "p.lead"

[[feed]]
url = %q
tags = ["empty"]
[feed.scrape]
items = "div.news-item"
title = "h3"
link = "a@href"
`, listing, srv.URL+"/empty")
	base := startContent(t, config)
	items := readJSONFeed(t, base+"/tags/lbci.json")
	want := map[string]jsonItem{
		"Ceasefire talks resume in Doha": {URL: srv.URL + "/news/1/ceasefire-talks", DatePublished: "2024-03-26T11:25:00Z", ContentHTML: "Negotiators <b>met</b> again on Tuesday."},
		"Power cuts across the south":    {URL: srv.URL + "/news/category/1/news-bulletin-reports/news/2/power-cuts", DatePublished: "2024-03-26T11:00:00Z", ContentHTML: "Electricité du Liban cut supply."},
		"Parliament meets on the budget": {URL: "https://other.example/budget", DatePublished: "2024-03-26T09:30:00Z", ContentHTML: "The session lasted five hours."},
	}
	if len(items) != 3 {
		t.Fatalf("%d items, want 3: %+v", len(items), items)
	}
	for _, it := range items {
		w, ok := want[it.Title]
		if !ok || it.URL != w.URL || it.DatePublished != w.DatePublished || it.ContentHTML != w.ContentHTML {
			t.Errorf("item %q: url %s, date %s, content %q; want %+v", it.Title, it.URL, it.DatePublished, it.ContentHTML, w)
		}
	}
	_, status := get(t, base+"/feeds.json")
	if !strings.Contains(string(status), `matches nothing on the page`) {
		t.Errorf("/feeds.json does not say the empty page's items selector matched nothing: %s", status)
	}
}

// TestCheck_ContentConfig: a scrape selector that does not compile, a
// remove selector that does not, a title_replace regex that does not and a
// network that is not one are each reported at their line.
func TestCheck_ContentConfig(t *testing.T) {
	doc := `[content]
allow_networks = ["10.0.0.0/8", "not-a-network"]

[[feed]]
url = "https://lbci.example/news"
remove = ["div.newsletter", "figure[ad"]
title_replace = [["^Breaking: (", ""]]
[feed.scrape]
items = "div.news-item"
title = "h3:nth-child("
link = "a@href"
`
	_, err := ParseConfig("feeds.toml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"feeds.toml:2:", "not-a-network", "feeds.toml:6:", `"figure[ad"`,
		"feeds.toml:7:", "^Breaking: (", "feeds.toml:10:", `"h3:nth-child("`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the errors do not say %q:\n%v", want, err)
		}
	}
}
