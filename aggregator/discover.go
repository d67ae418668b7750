package aggregator

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// feedTypes are the link types that point at a feed from an HTML page.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true,
	"application/rdf+xml":   true,
	"text/xml":              true,
	"application/xml":       true,
}

// looksLikeHTML reports whether a body that gofeed could not place is an
// HTML page: its served type says so, or it starts like one.
func looksLikeHTML(body []byte, contentType string) bool {
	if mt := strings.ToLower(contentType); strings.HasPrefix(mt, "text/html") || strings.HasPrefix(mt, "application/xhtml") {
		return true
	}
	head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 1024)]))
	return bytes.Contains(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html"))
}

// feedLinks returns the absolute URLs of the feeds an HTML page announces
// with <link rel="alternate" type="…">, in document order.
func feedLinks(page []byte, base *url.URL) []string {
	var links []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return links
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) == "body" {
				return links
			}
			if string(name) != "link" || !hasAttr {
				continue
			}
			var rel, typ, href string
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "rel":
					rel = strings.ToLower(string(v))
				case "type":
					typ = strings.ToLower(strings.TrimSpace(string(v)))
				case "href":
					href = string(v)
				}
				if !more {
					break
				}
			}
			if !strings.Contains(" "+rel+" ", " alternate ") || !feedTypes[typ] {
				continue
			}
			if u := absURL(base, href); u != "" && !slices.Contains(links, u) {
				links = append(links, u)
			}
		}
	}
}
