package feedmux

import (
	"net/url"
	"regexp"
	"strings"

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

// safeMarkup is SafeHTML's work on HTML that is not empty: the HTML read
// as a browser would, cut down to the allowlist (allowlist.go), its URLs
// made absolute, and written back balanced and well nested: validators
// parse item HTML strictly and warn on unclosed tags. The token stream
// (streamMarkup) does it for most HTML, the tree for the rest; both give
// the same result.
func safeMarkup(s string, base *url.URL) string {
	if out, ok := streamMarkup(s, base); ok {
		// A character reference can make a character XML forbids (&#1;),
		// and a URL made absolute takes bytes of base, which may not be
		// UTF-8 (FuzzRender found one).
		return strings.TrimSpace(XMLText(out))
	}
	return treeMarkup(s, base)
}

// treeMarkup is safeMarkup through the tree, for the HTML streamMarkup
// gives up on.
func treeMarkup(s string, base *url.URL) string {
	root, err := parseBody(s)
	if err != nil {
		return html.EscapeString(s)
	}
	cleanChildren(root, base)
	out, err := renderChildren(root, len(s)+len(s)/8)
	if err != nil {
		return html.EscapeString(s)
	}
	// The parser decodes entities, and &#1; is a character XML forbids.
	return strings.TrimSpace(XMLText(out))
}

// parseBody parses s as the content of a body element, under one root of
// its own: an element unwrapped at the top is unwrapped like any other.
func parseBody(s string) (*html.Node, error) {
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext)
	if err != nil {
		return nil, err
	}
	root := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	return root, nil
}

// renderChildren renders the nodes below root, in a buffer of size bytes.
func renderChildren(root *html.Node, size int) (string, error) {
	var b strings.Builder
	b.Grow(size)
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if err := html.Render(&b, n); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// urlAttrs are the attributes that hold a URL in what SafeHTML keeps.
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true, "longdesc": true, "poster": true}

var bodyContext = &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}

// cleanChildren cleans the nodes below n: text stays, comments and
// doctypes go, and each element is kept, unwrapped or dropped.
func cleanChildren(n *html.Node, base *url.URL) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch {
		case c.Type == html.TextNode:
		case c.Type != html.ElementNode:
			n.RemoveChild(c)
		case c.Namespace != "":
			// SVG and MathML: their text, without their markup.
			keepText(n, c, c)
			n.RemoveChild(c)
		default:
			cleanElement(n, c, base)
		}
		c = next
	}
}

// cleanElement keeps el, a child of parent, with the attributes it may
// have; unwraps it when it may not stay (its content stays); or drops it
// whole.
func cleanElement(parent, el *html.Node, base *url.URL) {
	rules, kept := keptElements[el.Data]
	if kept {
		el.Attr = keptAttrs(el.Data, el.Attr, rules, base)
	}
	switch {
	case el.Data == "iframe":
		if !hasAttr(el.Attr, "src") {
			parent.RemoveChild(el) // not a video player
			return
		}
		for el.FirstChild != nil {
			el.RemoveChild(el.FirstChild)
		}
		return
	case droppedWhole[el.Data]:
		parent.RemoveChild(el)
		return
	}
	cleanChildren(el, base)
	if unwrapped(el.Data, kept, el.Attr) {
		for c := el.FirstChild; c != nil; c = el.FirstChild {
			el.RemoveChild(c)
			parent.InsertBefore(c, el)
		}
		parent.RemoveChild(el)
		return
	}
	if el.Data == "a" {
		el.Attr = append(el.Attr, linkRel)
	}
	if name := keptName(el.Data); name != el.Data {
		el.Data, el.DataAtom = name, atom.Lookup([]byte(name))
	}
}

// unwrapped tells whether an element name, kept by the allowlist or not,
// with the attributes it may keep, goes while its content stays. A link
// without a URL it may keep is unwrapped too: links get a rel, so keeping
// it would make SafeHTML change its own output (FuzzSafeHTML found
// <a href=//@>).
func unwrapped(name string, kept bool, attrs []html.Attribute) bool {
	return !kept || len(attrs) == 0 && !keptBare[name] || name == "a" && !hasAttr(attrs, "href")
}

// linkRel is the rel every kept link carries, after its own attributes.
var linkRel = html.Attribute{Key: "rel", Val: "noopener noreferrer"}

// keptName is the name a kept element is written with: the feed
// validator reports bdo as a security risk, and a span keeps its
// direction.
func keptName(name string) string {
	if name == "bdo" {
		return "span"
	}
	return name
}

// keptAttrs are the attributes of element name that its rules or the
// global ones allow, with their URLs made absolute; a URL that cannot be
// is dropped. It reuses attrs' array.
func keptAttrs(name string, attrs []html.Attribute, rules map[string]attrRule, base *url.URL) []html.Attribute {
	kept := attrs[:0]
	for _, a := range attrs {
		rule, ok := rules[a.Key]
		if !ok {
			rule, ok = globalAttrs[a.Key]
		}
		if !ok || a.Namespace != "" || a.Key == "rel" && name == "a" ||
			rule.pattern != nil && !rule.pattern.MatchString(a.Val) {
			continue
		}
		if rule.url || urlAttrs[a.Key] {
			v, ok := safeURL(base, a.Val, name == "img" && a.Key == "src")
			if !ok {
				continue
			}
			a.Val = v
		}
		kept = append(kept, a)
	}
	return kept
}

// keepText moves the text below foreign element n before at, in order,
// leaving out that of scripts and styles.
func keepText(parent, at, n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			parent.InsertBefore(&html.Node{Type: html.TextNode, Data: c.Data}, at)
		case c.Type == html.ElementNode && c.Data != "script" && c.Data != "style":
			keepText(parent, at, c)
		}
	}
}

func hasAttr(attrs []html.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// safeURL is absolute, refusing as bluemonday does an empty URL, a bare
// "#", and a URL with white space inside it (but for data: URLs, which
// absolute checks whole).
func safeURL(base *url.URL, ref string, image bool) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || ref == "#" || !strings.HasPrefix(ref, "data:") && strings.ContainsAny(ref, " \t\n") {
		return "", false
	}
	return absolute(base, ref, image)
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
