package aggregator_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/feedmux/feedmux"
)

// TestPoller_LinkForms: every form of item link the corpus shows, and that
// feedparser and Miniflux read, gives the stored item an absolute link;
// the forms that are not links give none.
func TestPoller_LinkForms(t *testing.T) {
	t.Parallel()
	const rssHead = `<?xml version="1.0"?><rss version="2.0" xmlns:a10="http://www.w3.org/2005/Atom" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title><link>/</link><description>d</description>`
	docs := map[string]string{
		"/feeds/news.rss": rssHead + `
<item><title>rss link, relative</title><link>story.html</link></item>
<item><title>permalink guid, relative, unmarked</title><guid>/blog/intro-graphml</guid></item>
<item><title>permalink guid, relative, marked</title><guid isPermaLink="true">/blog/marked</guid></item>
<item><title>guid that is not a permalink</title><guid isPermaLink="false">/blog/not-a-link</guid></item>
<item><title>a10 link in an RSS item</title><guid isPermaLink="false">urn:x:1</guid><a10:link href="https://dotnet.example/posts/1"/></item>
<item><title>atom link, alternate, relative</title><atom:link rel="alternate" href="/rel/2"/></item>
<item><title>atom link, enclosure only</title><atom:link rel="enclosure" href="/media/e.mp3"/></item>
<item><title>guid URL, not marked permalink</title><guid isPermaLink="false">https://guid.example/3</guid></item>
</channel></rss>`,
		"/feeds/blog.atom": `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><id>tag:b,2024:f</id><updated>2024-03-26T10:00:00Z</updated>
<entry><title>atom link without rel</title><id>tag:b,2024:1</id><updated>2024-03-26T10:00:00Z</updated><link href="/posts/1"/></entry>
<entry><title>atom id that is a URL</title><id>https://ids.example/2</id><updated>2024-03-26T10:00:00Z</updated></entry>
<entry><title>atom related link only</title><id>tag:b,2024:3</id><updated>2024-03-26T10:00:00Z</updated><link rel="related" href="https://elsewhere.example/"/></entry>
</feed>`,
		"/feeds/site.json": `{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
{"id": "1", "title": "json url, relative", "url": "/j/1", "content_text": "x"},
{"id": "2", "title": "json external_url alone", "external_url": "https://ext.example/2", "content_text": "x"}]}`,
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
	items, err := db.Items(t.Context(), feedmux.ItemFilter{Tags: []string{"x"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range items {
		got[it.Title] = it.URL
	}
	for title, want := range map[string]string{
		"rss link, relative":                 srv.URL + "/feeds/story.html",
		"permalink guid, relative, unmarked": srv.URL + "/blog/intro-graphml",
		"permalink guid, relative, marked":   srv.URL + "/blog/marked",
		"guid that is not a permalink":       "",
		"a10 link in an RSS item":            "https://dotnet.example/posts/1",
		"atom link, alternate, relative":     srv.URL + "/rel/2",
		"atom link, enclosure only":          "",
		"guid URL, not marked permalink":     "https://guid.example/3",
		"atom link without rel":              srv.URL + "/posts/1",
		"atom id that is a URL":              "https://ids.example/2",
		"atom related link only":             "",
		"json url, relative":                 srv.URL + "/j/1",
		"json external_url alone":            "https://ext.example/2",
	} {
		link, ok := got[title]
		switch {
		case !ok:
			t.Errorf("%s: not stored", title)
		case link != want:
			t.Errorf("%s: link %q, want %q", title, link, want)
		}
	}
}
