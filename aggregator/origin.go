package aggregator

import (
	"net/url"
	"strings"

	"github.com/feedmux/feedmux"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// titleSeparators go between a headline and the publisher's name that an
// aggregator appends to it ("Ceasefire vote - Al Jazeera English").
var titleSeparators = []string{" - ", " – ", " — ", " | "}

// redirectParams are the query parameters in which an aggregator's redirect
// link (Bing News's apiclick.aspx) carries the publisher's article URL.
var redirectParams = []string{"url", "u"}

// aggregated fills in it.Origin when src is an aggregator's copy of another
// publisher's article: an RSS <source> (Google News) or a News:Source
// extension (Bing News) names the publisher. The publisher's name is then
// dropped from the end of the title, but only that name: a headline that
// merely ends with a dash and a word ("Lakers win again - analysis") keeps
// it. The publisher becomes the author when the item names none, and a
// redirect link that carries the article's URL is replaced by it.
func aggregated(src *gofeed.Item, orig *rss.Item, it *feedmux.Item) {
	name, site := publisher(src, orig)
	if name == "" {
		return
	}
	if target := redirectTarget(it.URL); target != "" {
		it.URL = target
		if site == "" {
			u, _ := url.Parse(target)
			site = u.Scheme + "://" + u.Host + "/"
		}
	}
	it.Origin = feedmux.Source{Title: name, SiteURL: site}
	it.Title = withoutPublisher(it.Title, name)
	if it.Author == "" {
		it.Author = name
	}
}

// publisher is the name and home page of the publisher src names, if any.
func publisher(src *gofeed.Item, orig *rss.Item) (name, site string) {
	if orig != nil && orig.Source != nil {
		name = plainText(orig.Source.Title)
		if isHTTPURL(strings.TrimSpace(orig.Source.URL)) {
			site = strings.TrimSpace(orig.Source.URL)
		}
	}
	for prefix, exts := range src.Extensions {
		if name != "" || !strings.EqualFold(prefix, "news") {
			continue
		}
		for elem, values := range exts {
			if strings.EqualFold(elem, "source") && len(values) > 0 {
				name = plainText(values[0].Value)
			}
		}
	}
	return name, site
}

// withoutPublisher drops " - name" (or another separator) from the end of
// title, compared case-insensitively; anything else is left as it is.
func withoutPublisher(title, name string) string {
	for _, sep := range titleSeparators {
		suffix := sep + name
		if len(title) > len(suffix) && strings.EqualFold(title[len(title)-len(suffix):], suffix) {
			return strings.TrimSpace(title[:len(title)-len(suffix)])
		}
	}
	return title
}

// redirectTarget is the article URL that an aggregator's redirect link
// carries in its query, or "" when link carries none.
func redirectTarget(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	q := u.Query()
	for _, p := range redirectParams {
		if target := strings.TrimSpace(q.Get(p)); isHTTPURL(target) {
			if t, err := url.Parse(target); err == nil && t.Host != "" && !strings.EqualFold(t.Hostname(), u.Hostname()) {
				return target
			}
		}
	}
	return ""
}
