package servertest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Check asserts the rules of ../shared/VALIDATION.md on an output feed in
// format ("rss", "atom" or "json") fetched from selfURL at now: the points
// of the W3C Feed Validation Service that neither jing nor feedparser
// covers. It reports every broken rule.
func Check(tb testing.TB, format, selfURL string, doc []byte, now time.Time) {
	tb.Helper()
	c := &checker{tb: tb, now: now}
	switch format {
	case "json":
		c.json(selfURL, doc)
	default:
		root, err := parseXML(doc)
		if err != nil {
			tb.Errorf("%s is not well-formed XML: %v", format, err)
			return
		}
		if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			tb.Errorf("%s does not declare its encoding as UTF-8", format)
		}
		c.namespaces(root)
		if format == "rss" {
			c.rss(root, selfURL)
		} else {
			c.atom(root, selfURL)
		}
	}
}

type checker struct {
	tb  testing.TB
	now time.Time
}

func (c *checker) errorf(format string, args ...any) {
	c.tb.Helper()
	c.tb.Errorf(format, args...)
}

const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsMedia   = "http://search.yahoo.com/mrss/"
	nsITunes  = "http://www.itunes.com/dtds/podcast-1.0.dtd"
)

var knownNS = map[string]bool{"": true, nsAtom: true, nsContent: true, nsDC: true, nsMedia: true, nsITunes: true,
	"http://www.w3.org/XML/1998/namespace": true, "xmlns": true}

// node is an element of a parsed XML document.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     string
}

func parseXML(doc []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if root == nil {
				return nil, fmt.Errorf("no root element")
			}
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
}

func (n *node) all(space, local string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Local == local && c.name.Space == space {
			out = append(out, c)
		}
	}
	return out
}

func (n *node) first(space, local string) *node {
	if all := n.all(space, local); len(all) > 0 {
		return all[0]
	}
	return nil
}

func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func (n *node) walk(f func(*node)) {
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
}

func (c *checker) namespaces(root *node) {
	root.walk(func(n *node) {
		if !knownNS[n.name.Space] {
			c.errorf("element %s in a namespace the validator does not know: %s", n.name.Local, n.name.Space)
		}
		for _, a := range n.attrs {
			if a.Name.Space == "xmlns" && !knownNS[a.Value] {
				c.errorf("namespace %s=%s is not one the validator knows", a.Name.Local, a.Value)
			}
		}
	})
}

// mediaType matches a MIME type as RFC 4287 wants it: type/subtype.
var mediaType = regexp.MustCompile(`^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$`)

// absolute reports whether s is an absolute http or https URL.
func absolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var rfc822 = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (\+\d{4}|GMT)$`)

func (c *checker) plausible(where string, t time.Time) {
	c.tb.Helper()
	switch {
	case t.Year() < 1990:
		c.errorf("%s: implausible date %s", where, t.Format(time.RFC3339))
	case t.After(c.now):
		// Readers take such an entry as not yet published: Miniflux's
		// "mark all as read" leaves it unread.
		c.errorf("%s: date %s is later than the document was served (%s)", where, t.Format(time.RFC3339), c.now.Format(time.RFC3339))
	}
}

func (c *checker) rssDate(where, s string) {
	c.tb.Helper()
	if !rfc822.MatchString(s) {
		c.errorf("%s: date %q is not RFC 822 with a four-digit year", where, s)
		return
	}
	t, err := time.Parse(time.RFC1123Z, strings.Replace(s, "GMT", "+0000", 1))
	if err != nil {
		c.errorf("%s: date %q: %v", where, s, err)
		return
	}
	c.plausible(where, t)
}

func (c *checker) atomDate(where, s string) string {
	c.tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		c.errorf("%s: date %q is not RFC 3339", where, s)
		return s
	}
	c.plausible(where, t)
	return s
}

func (c *checker) rss(root *node, selfURL string) {
	if root.name.Local != "rss" {
		c.errorf("root element is %s, want rss", root.name.Local)
		return
	}
	if v, _ := root.attr("version"); v != "2.0" {
		c.errorf("rss version %q, want 2.0", v)
	}
	ch := root.first("", "channel")
	if ch == nil {
		c.errorf("rss without channel")
		return
	}
	for _, name := range []string{"title", "link", "description"} {
		if e := ch.first("", name); e == nil || strings.TrimSpace(e.text) == "" {
			c.errorf("channel without %s", name)
		}
	}
	if l := ch.first("", "link"); l != nil && !absolute(l.text) {
		c.errorf("channel link %q is not absolute", l.text)
	}
	if d := ch.first("", "lastBuildDate"); d != nil {
		c.rssDate("lastBuildDate", d.text)
	}
	c.selfLink(ch.all(nsAtom, "link"), selfURL, "application/rss+xml")
	items := ch.all("", "item")
	guids := map[string]bool{}
	for i, it := range items {
		where := fmt.Sprintf("item %d", i)
		if t := it.first("", "title"); t == nil || strings.TrimSpace(t.text) == "" {
			c.errorf("%s has no title", where)
		}
		if l := it.first("", "link"); l != nil && !absolute(l.text) {
			c.errorf("%s link %q is not absolute", where, l.text)
		}
		g := it.first("", "guid")
		switch {
		case g == nil:
			c.errorf("%s has no guid", where)
		default:
			if p, _ := g.attr("isPermaLink"); p != "false" && !absolute(g.text) {
				c.errorf("%s guid %q is neither a URL nor isPermaLink=false", where, g.text)
			}
			if !strings.Contains(g.text, ":") {
				c.errorf("%s guid %q is not globally unique", where, g.text)
			}
			if guids[g.text] {
				c.errorf("%s repeats guid %q", where, g.text)
			}
			guids[g.text] = true
		}
		if d := it.first("", "pubDate"); d == nil {
			c.errorf("%s has no pubDate", where)
		} else {
			c.rssDate(where+" pubDate", d.text)
		}
		if a := it.first("", "author"); a != nil && !regexp.MustCompile(`^[^@\s]+@[^@\s]+(\s\(.*\))?$`).MatchString(a.text) {
			c.errorf("%s author %q is not an e-mail address", where, a.text)
		}
		if it.first("", "author") != nil && it.first(nsDC, "creator") != nil {
			c.errorf("%s has both author and dc:creator", where)
		}
		if s := it.first("", "source"); s != nil {
			if u, _ := s.attr("url"); !absolute(u) {
				c.errorf("%s source url %q is not absolute", where, u)
			}
		}
		encs := it.all("", "enclosure")
		if len(encs) > 1 {
			c.errorf("%s has %d enclosures, RSS allows one", where, len(encs))
		}
		for _, e := range encs {
			u, _ := e.attr("url")
			_, hasLen := e.attr("length")
			typ, _ := e.attr("type")
			if !absolute(u) || !hasLen || !mediaType.MatchString(typ) {
				c.errorf("%s enclosure lacks an absolute url, a length or a type: %v", where, e.attrs)
			}
		}
		for _, m := range it.all(nsMedia, "content") {
			if u, _ := m.attr("url"); !absolute(u) {
				c.errorf("%s media:content url %q is not absolute", where, u)
			}
			if s, ok := m.attr("fileSize"); ok && (s == "0" || strings.HasPrefix(s, "-")) {
				c.errorf("%s media:content fileSize %q is not positive", where, s)
			}
		}
		for _, cat := range it.all("", "category") {
			if strings.TrimSpace(cat.text) == "" {
				c.errorf("%s has an empty category", where)
			}
		}
		descAt, contentAt := -1, -1
		for k, ch := range it.children {
			switch {
			case ch.name.Space == "" && ch.name.Local == "description":
				descAt = k
				c.html(where+" description", ch.text)
			case ch.name.Space == nsContent && ch.name.Local == "encoded":
				contentAt = k
				c.html(where+" content:encoded", ch.text)
			}
		}
		if contentAt >= 0 && (descAt < 0 || descAt > contentAt) {
			c.errorf("%s: description must come before content:encoded", where)
		}
	}
}

func (c *checker) selfLink(links []*node, selfURL, typ string) {
	c.tb.Helper()
	n := 0
	for _, l := range links {
		rel, _ := l.attr("rel")
		href, _ := l.attr("href")
		if !absolute(href) {
			c.errorf("link rel=%s href %q is not absolute", rel, href)
		}
		if rel != "self" {
			continue
		}
		n++
		if normalURL(href) != normalURL(selfURL) {
			c.errorf("self link %q, want the URL the feed came from, %q", href, selfURL)
		}
		if t, _ := l.attr("type"); t != typ {
			c.errorf("self link type %q, want %q", t, typ)
		}
	}
	if n != 1 {
		c.errorf("%d self links, want 1", n)
	}
}

func (c *checker) atom(root *node, selfURL string) {
	if root.name.Space != nsAtom || root.name.Local != "feed" {
		c.errorf("root element is {%s}%s, want an Atom feed", root.name.Space, root.name.Local)
		return
	}
	if id := root.first(nsAtom, "id"); id == nil || !validIRI(id.text) {
		c.errorf("feed id is missing or not an IRI")
	}
	if t := root.first(nsAtom, "title"); t == nil || strings.TrimSpace(t.text) == "" {
		c.errorf("feed without title")
	}
	if u := root.first(nsAtom, "updated"); u == nil {
		c.errorf("feed without updated")
	} else {
		c.atomDate("feed updated", u.text)
	}
	c.selfLink(root.all(nsAtom, "link"), selfURL, "application/atom+xml")
	feedAuthor := root.first(nsAtom, "author") != nil
	ids, updates := map[string]bool{}, map[string]bool{}
	for i, e := range root.all(nsAtom, "entry") {
		where := fmt.Sprintf("entry %d", i)
		id := e.first(nsAtom, "id")
		switch {
		case id == nil || !validIRI(id.text):
			c.errorf("%s id is missing or not an IRI", where)
		case ids[id.text]:
			c.errorf("%s repeats id %s", where, id.text)
		default:
			ids[id.text] = true
		}
		if t := e.first(nsAtom, "title"); t == nil || strings.TrimSpace(t.text) == "" {
			c.errorf("%s has no title", where)
		}
		if u := e.first(nsAtom, "updated"); u == nil {
			c.errorf("%s has no updated", where)
		} else {
			s := c.atomDate(where+" updated", u.text)
			if updates[s] {
				c.errorf("%s repeats the updated time %s of an earlier entry", where, s)
			}
			updates[s] = true
		}
		if p := e.first(nsAtom, "published"); p != nil {
			c.atomDate(where+" published", p.text)
		}
		alternate := false
		for _, l := range e.all(nsAtom, "link") {
			rel, _ := l.attr("rel")
			href, _ := l.attr("href")
			if !absolute(href) {
				c.errorf("%s link rel=%s href %q is not absolute", where, rel, href)
			}
			if rel == "" || rel == "alternate" {
				alternate = true
			}
			if typ, ok := l.attr("type"); ok && !mediaType.MatchString(typ) {
				c.errorf("%s link rel=%s type %q is not a media type", where, rel, typ)
			}
		}
		content := e.first(nsAtom, "content")
		if !alternate && content == nil {
			c.errorf("%s has neither an alternate link nor content", where)
		}
		for _, tc := range []*node{content, e.first(nsAtom, "summary")} {
			if tc == nil {
				continue
			}
			typ, _ := tc.attr("type")
			switch typ {
			case "html":
				c.html(where+" "+tc.name.Local, tc.text)
			case "xhtml", "text", "":
			default:
				c.errorf("%s %s has type %q", where, tc.name.Local, typ)
			}
		}
		for _, cat := range e.all(nsAtom, "category") {
			if term, _ := cat.attr("term"); strings.TrimSpace(term) == "" {
				c.errorf("%s category without term", where)
			}
		}
		hasAuthor := e.first(nsAtom, "author") != nil
		if src := e.first(nsAtom, "source"); src != nil {
			for _, name := range []string{"id", "title", "updated"} {
				if src.first(nsAtom, name) == nil {
					c.errorf("%s source without %s", where, name)
				}
			}
			hasAuthor = hasAuthor || src.first(nsAtom, "author") != nil
		}
		if !hasAuthor && !feedAuthor {
			c.errorf("%s has no author and neither has the feed", where)
		}
	}
}

func validIRI(s string) bool {
	return strings.HasPrefix(s, "urn:") || strings.HasPrefix(s, "tag:") || strings.HasPrefix(s, "https:") || strings.HasPrefix(s, "http:")
}

func (c *checker) json(selfURL string, doc []byte) {
	var f struct {
		Version string            `json:"version"`
		Title   string            `json:"title"`
		FeedURL string            `json:"feed_url"`
		HomeURL string            `json:"home_page_url"`
		NextURL *string           `json:"next_url"`
		Items   []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		c.errorf("JSON feed does not parse: %v", err)
		return
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(doc, &raw)
	if _, ok := raw["items"]; !ok {
		c.errorf("JSON feed without items")
	}
	if f.Version != "https://jsonfeed.org/version/1.1" {
		c.errorf("JSON feed version %q", f.Version)
	}
	if f.Title == "" {
		c.errorf("JSON feed without title")
	}
	if normalURL(f.FeedURL) != normalURL(selfURL) {
		c.errorf("feed_url %q, want %q", f.FeedURL, selfURL)
	}
	if !absolute(f.HomeURL) {
		c.errorf("home_page_url %q is not absolute", f.HomeURL)
	}
	if f.NextURL != nil && !absolute(*f.NextURL) {
		c.errorf("next_url %q is not absolute", *f.NextURL)
	}
	ids := map[string]bool{}
	for i, rawItem := range f.Items {
		where := fmt.Sprintf("item %d", i)
		var it struct {
			ID            string  `json:"id"`
			URL           string  `json:"url"`
			ContentHTML   *string `json:"content_html"`
			ContentText   *string `json:"content_text"`
			DatePublished *string `json:"date_published"`
			DateModified  *string `json:"date_modified"`
			Author        any     `json:"author"`
			Authors       []struct {
				Name string `json:"name"`
			} `json:"authors"`
			Attachments []struct {
				URL      string `json:"url"`
				MIMEType string `json:"mime_type"`
			} `json:"attachments"`
		}
		if err := json.Unmarshal(rawItem, &it); err != nil {
			c.errorf("%s: %v", where, err)
			continue
		}
		if it.ID == "" || ids[it.ID] {
			c.errorf("%s id %q is empty or repeated", where, it.ID)
		}
		ids[it.ID] = true
		if it.ContentHTML == nil && it.ContentText == nil {
			c.errorf("%s has neither content_html nor content_text", where)
		}
		if it.ContentHTML != nil {
			c.html(where+" content_html", *it.ContentHTML)
		}
		if it.URL != "" && !absolute(it.URL) {
			c.errorf("%s url %q is not absolute", where, it.URL)
		}
		for _, d := range []*string{it.DatePublished, it.DateModified} {
			if d != nil {
				c.atomDate(where+" date", *d)
			}
		}
		if it.Author != nil {
			c.errorf("%s uses the JSON Feed 1.0 author", where)
		}
		for _, a := range it.Attachments {
			if !absolute(a.URL) || !mediaType.MatchString(a.MIMEType) {
				c.errorf("%s attachment %+v lacks an absolute url or a mime_type", where, a)
			}
		}
	}
}

// unsafeElements are the elements the validator flags as a security risk.
var unsafeElements = map[string]bool{"applet": true, "base": true, "basefont": true, "bdo": true, "body": true,
	"embed": true, "frame": true, "frameset": true, "head": true, "html": true, "iframe": true, "isindex": true,
	"link": true, "meta": true, "noframes": true, "object": true, "param": true, "plaintext": true,
	"script": true, "slot": true, "style": true, "title": true, "xmp": true, "form": true}

var voidElements = map[string]bool{"area": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "source": true, "track": true, "wbr": true}

// html checks item HTML: nothing active, every URL absolute, tags balanced.
func (c *checker) html(where, s string) {
	c.tb.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	var open []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(open) > 0 {
				c.errorf("%s: unclosed %v in %q", where, open, s)
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if msg := activeTag(tok); msg != "" {
				c.errorf("%s: %s in %q", where, msg, s)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case (a.Key == "href" || a.Key == "src") && !absolute(a.Val) &&
					!strings.HasPrefix(v, "mailto:") && !(tok.Data == "img" && strings.HasPrefix(v, "data:image/")):
					c.errorf("%s: %s %q is not an absolute URL", where, a.Key, a.Val)
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				open = append(open, tok.Data)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				c.errorf("%s: </%s> does not close the open %v in %q", where, name, open, s)
				return
			}
			open = open[:len(open)-1]
		}
	}
}

// normalURL is s with its path percent-encoded, as a client sends it.
func normalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.String()
}

// ActiveHTML parses HTML as a browser would and names the first thing in it
// that could run or restyle the reader's page: an element the validator
// calls a security risk, an event handler, a style attribute, a
// javascript: or vbscript: URL. It returns "" for safe HTML.
func ActiveHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			if msg := activeTag(z.Token()); msg != "" {
				return msg
			}
		}
	}
}

func activeTag(tok html.Token) string {
	if unsafeElements[tok.Data] {
		return "element <" + tok.Data + ">"
	}
	for _, a := range tok.Attr {
		v := strings.ToLower(strings.TrimSpace(a.Val))
		switch {
		case strings.HasPrefix(a.Key, "on"):
			return "event handler " + a.Key
		case a.Key == "style":
			return "style attribute"
		case strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:"):
			return a.Key + " URL " + a.Val
		}
	}
	return ""
}
