package feedmux

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Safe item HTML is a domain rule, not a detail of one package: the poller
// applies it to what it stores and the server again to what it renders, so
// that a stricter policy also covers items stored before it.

// videoEmbed matches the iframe sources kept in item HTML: the embed players
// of YouTube (and its no-cookie host) and Vimeo. Each serves only a video
// player from a fixed path, so an allowed frame can show a video and nothing
// else; a frame from any other host is dropped.
var videoEmbed = regexp.MustCompile(`^https://(www\.youtube\.com/embed/|www\.youtube-nocookie\.com/embed/|player\.vimeo\.com/video/)[A-Za-z0-9_-]+(\?[A-Za-z0-9_=&;.%-]*)?$`)

// dataImage matches the data: URLs kept, on img src only: base64 raster
// images. SVG is left out because it can carry script.
var dataImage = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp|avif);base64,[A-Za-z0-9+/]+=*$`)

// contentPolicy removes everything active from source HTML: scripts,
// styles, event handlers, forms, objects, frames other than video players,
// and URLs other than http, https, mailto and base64 raster images.
var contentPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return dataImage.MatchString(u.String())
	})
	p.AllowAttrs("src").Matching(videoEmbed).OnElements("iframe")
	p.AllowAttrs("width", "height").Matching(bluemonday.Number).OnElements("iframe")
	p.AllowAttrs("title").OnElements("iframe")
	p.AllowAttrs("allowfullscreen").Matching(regexp.MustCompile(`^(allowfullscreen)?$`)).OnElements("iframe")
	return p
}()

// SafeHTML returns the part of an item's HTML that is safe to show: no
// script, style, event handler, form or foreign frame; every URL absolute,
// resolved against base (the item's link, else its feed's URL), and only
// http, https or mailto, except base64 raster images in img src; links carry
// rel="noopener noreferrer". Characters XML 1.0 forbids are removed.
func SafeHTML(s string, base *url.URL) string {
	s = strings.TrimSpace(XMLText(s))
	switch {
	case s == "":
		return ""
	case !strings.ContainsAny(s, "<&\r"):
		// Text without markup or entities (many summaries are): what the
		// sanitizer and the parser would make of it, without either.
		return html.EscapeString(s)
	}
	return safeMarkup(s, base)
}

// safeMarkup is SafeHTML's work on HTML that is not empty.
func safeMarkup(s string, base *url.URL) string {
	// The sanitizer decodes entities, and &#1; is a character XML forbids.
	s = XMLText(contentPolicy.Sanitize(s))
	return strings.TrimSpace(fixURLs(s, base))
}

// urlAttrs are the attributes that hold a URL in what contentPolicy keeps.
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true, "longdesc": true, "poster": true}

var bodyContext = &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}

// fixURLs parses sanitized HTML as a browser would, makes its URLs
// absolute, sets rel on links and renders it back balanced and well nested:
// validators parse item HTML strictly and warn on unclosed tags.
func fixURLs(s string, base *url.URL) string {
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext)
	if err != nil {
		return html.EscapeString(s)
	}
	// The fragment's nodes go under one parent, so that a link fixTree
	// unwraps at the top is unwrapped like any other.
	root := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	fixTree(root, base)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if err := html.Render(&b, n); err != nil {
			return html.EscapeString(s)
		}
	}
	return b.String()
}

// fixTree fixes the elements below n. A link left without a URL it may
// keep is unwrapped, its content kept: the sanitizer drops an a element
// with nothing but the rel fixTag gives links, so keeping it would make
// SafeHTML change its own output (FuzzSafeHTML found <a href=//@>).
func fixTree(n *html.Node, base *url.URL) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			fixTag(c, base)
		}
		fixTree(c, base)
		if c.Type == html.ElementNode && c.Data == "a" && !hasAttr(c, "href") {
			for gc := c.FirstChild; gc != nil; gc = c.FirstChild {
				c.RemoveChild(gc)
				n.InsertBefore(gc, c)
			}
			n.RemoveChild(c)
		}
		c = next
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// fixTag makes the URLs of one element absolute, drops those that cannot be,
// and sets rel on links.
func fixTag(n *html.Node, base *url.URL) {
	if n.Data == "bdo" {
		// Kept by bluemonday, but the feed validator reports bdo as a
		// security risk: a span keeps its direction.
		n.Data, n.DataAtom = "span", atom.Span
	}
	attrs := n.Attr[:0]
	for _, a := range n.Attr {
		if urlAttrs[a.Key] {
			v, ok := absolute(base, a.Val, n.Data == "img" && a.Key == "src")
			if !ok {
				continue
			}
			a.Val = v
		}
		if n.Data == "a" && a.Key == "rel" {
			continue // replaced below
		}
		attrs = append(attrs, a)
	}
	n.Attr = attrs
	if n.Data == "a" {
		n.Attr = append(n.Attr, html.Attribute{Key: "rel", Val: "noopener noreferrer"})
	}
}

// absolute resolves ref against base. It keeps http, https and mailto URLs,
// and data: images where image is true.
func absolute(base *url.URL, ref string, image bool) (string, bool) {
	ref = strings.TrimSpace(ref)
	if strings.HasPrefix(ref, "data:") {
		return ref, image && dataImage.MatchString(ref)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		if base == nil || !base.IsAbs() {
			return "", false
		}
		u = base.ResolveReference(u)
	}
	switch u.Scheme {
	case "http", "https":
		return u.String(), u.Host != ""
	case "mailto":
		return u.String(), true
	}
	return "", false
}

// FramesAsLinks replaces each iframe of safe HTML with a link to the video
// it plays. Output feeds use it: the W3C Feed Validation Service flags every
// iframe as a security risk, and many readers drop them anyway.
func FramesAsLinks(s string) string {
	if !strings.Contains(s, "<iframe") {
		return s
	}
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext)
	if err != nil {
		return s
	}
	var b strings.Builder
	for _, n := range nodes {
		framesToLinks(n)
		if err := html.Render(&b, n); err != nil {
			return s
		}
	}
	return b.String()
}

func framesToLinks(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		framesToLinks(c)
	}
	if n.Type != html.ElementNode || n.Data != "iframe" {
		return
	}
	src := ""
	for _, a := range n.Attr {
		if a.Key == "src" {
			src = a.Val
		}
	}
	for n.FirstChild != nil {
		n.RemoveChild(n.FirstChild)
	}
	if src == "" {
		n.Type, n.Data, n.Attr = html.TextNode, "", nil
		return
	}
	text := strings.TrimPrefix(src, "https://")
	n.Data, n.DataAtom = "a", atom.A
	n.Attr = []html.Attribute{{Key: "href", Val: src}, {Key: "rel", Val: "noopener noreferrer"}}
	n.AppendChild(&html.Node{Type: html.TextNode, Data: "Video: " + text})
}
