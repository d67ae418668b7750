package aggregator

import (
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"path"
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
// carries (in its query, or in a Google News article id), or "" when link
// carries none.
func redirectTarget(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	if target := googleNewsTarget(u); target != "" {
		return target
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

// googleNewsTarget reads the article URL out of a Google News link
// (news.google.com/rss/articles/ID, or /__i/rss/rd/articles/ID). The ids
// Google used until 2024 are a base64url protocol buffer whose field 4 is
// the URL; newer ones are opaque, and give "".
func googleNewsTarget(u *url.URL) string {
	if !strings.EqualFold(u.Hostname(), "news.google.com") || !strings.Contains(u.Path, "/articles/") {
		return ""
	}
	id := strings.TrimRight(path.Base(u.Path), "=")
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return ""
	}
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return ""
		}
		b = b[n:]
		switch key & 7 {
		case 0: // varint
			if _, n = binary.Uvarint(b); n <= 0 {
				return ""
			}
			b = b[n:]
		case 2: // length-delimited
			size, n := binary.Uvarint(b)
			if n <= 0 || size > uint64(len(b)-n) {
				return ""
			}
			field := string(b[n : n+int(size)])
			if key>>3 == 4 {
				if isHTTPURL(field) {
					return field
				}
				return ""
			}
			b = b[n+int(size):]
		default:
			return ""
		}
	}
	return ""
}
