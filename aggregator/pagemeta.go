package aggregator

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/feedmux/feedmux"
)

// articleTypes are the schema.org types whose JSON-LD describes an article.
var articleTypes = []string{"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle",
	"BlogPosting", "LiveBlogPosting", "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "Report"}

// pageMeta reads what an article page says about itself: its topics
// (<meta name="keywords"> and "news_keywords", article:tag and
// article:section, JSON-LD keywords and articleSection), its author, its
// publication time and its image (og:image, JSON-LD image).
func pageMeta(doc *goquery.Document, base *url.URL) feedmux.PageMeta {
	var m feedmux.PageMeta
	addTopics := func(list ...string) {
		for _, s := range list {
			for _, t := range strings.Split(s, ",") {
				if t = plainText(t); t != "" && !slices.ContainsFunc(m.Categories, func(c string) bool { return strings.EqualFold(c, t) }) {
					m.Categories = append(m.Categories, t)
				}
			}
		}
	}
	doc.Find("meta").Each(func(_ int, s *goquery.Selection) {
		key := strings.ToLower(cmp.Or(s.AttrOr("name", ""), s.AttrOr("property", "")))
		content := strings.TrimSpace(s.AttrOr("content", ""))
		if content == "" {
			return
		}
		switch key {
		case "keywords", "news_keywords", "article:tag", "article:section":
			addTopics(content)
		case "author", "article:author":
			if m.Author == "" && !isHTTPURL(content) {
				m.Author = plainText(content)
			}
		case "article:published_time", "date", "dc.date.issued":
			if m.Published.IsZero() {
				m.Published = parseDate(content)
			}
		case "og:image", "og:image:url", "twitter:image":
			if m.Image == "" {
				m.Image = absURL(base, content)
			}
		}
	})
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		for _, a := range jsonLDArticles([]byte(s.Text())) {
			addTopics(jsonStrings(a["keywords"])...)
			addTopics(jsonStrings(a["articleSection"])...)
			if m.Author == "" {
				var names []string
				for _, n := range jsonValues(a["author"], "name") {
					if n = plainText(n); n != "" {
						names = append(names, n)
					}
				}
				m.Author = strings.Join(names, ", ")
			}
			if m.Published.IsZero() {
				if d := jsonStrings(a["datePublished"]); len(d) > 0 {
					m.Published = parseDate(d[0])
				}
			}
			if m.Image == "" {
				if u := jsonValues(a["image"], "url"); len(u) > 0 {
					m.Image = absURL(base, u[0])
				}
			}
		}
	})
	return m
}

// jsonLDArticles returns the article objects of a JSON-LD block: the block
// itself, the members of an array or of an @graph, when their @type is one
// of articleTypes.
func jsonLDArticles(data []byte) []map[string]any {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	var out []map[string]any
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 3 {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			if slices.ContainsFunc(jsonStrings(x["@type"]), func(t string) bool { return slices.Contains(articleTypes, t) }) {
				out = append(out, x)
			}
			walk(x["@graph"], depth+1)
		}
	}
	walk(v, 0)
	return out
}

// jsonStrings is a JSON-LD value as strings: a string, or an array of them.
func jsonStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// jsonValues are the strings of a JSON-LD value that is a string, an
// object with the string field key ({"name": …}, {"url": …}), or an array
// of either.
func jsonValues(v any, key string) []string {
	var out []string
	add := func(e any) {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if s, ok := x[key].(string); ok {
				out = append(out, s)
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, e := range list {
			add(e)
		}
	} else {
		add(v)
	}
	return out
}

// dateLayouts are the forms of dates on pages and listings, tried in order.
var dateLayouts = []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05",
	time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST", time.RFC850,
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02", "2006/01/02 15:04", "2006/01/02",
	"02.01.2006 15:04", "02.01.2006", "January 2, 2006 15:04", "January 2, 2006", "Jan 2, 2006", "2 January 2006", "2 Jan 2006"}

// parseDate reads a date in one of dateLayouts (times without a zone are
// UTC); zero when it is none of them.
func parseDate(s string) time.Time {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
