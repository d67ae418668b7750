package feedmux

import (
	"strings"

	"golang.org/x/net/html"
)

// write writes the start tag of element name with attrs as the allowlist
// keeps it (cleanElement's rules), and tells whether it did: false when
// it is unwrapped or dropped.
func (st *streamer) write(name string, attrs []html.Attribute, void bool) bool {
	rules, kept := keptElements[name]
	if kept {
		attrs = keptAttrs(name, attrs, rules, st.base)
	}
	switch {
	case name == "iframe":
		if !hasAttr(attrs, "src") {
			return false // not a video player
		}
	case droppedWhole[name] || unwrapped(name, kept, attrs):
		return false
	case name == "a":
		attrs = append(attrs, linkRel)
	}
	st.b.WriteByte('<')
	st.b.WriteString(keptName(name))
	for _, a := range attrs {
		st.b.WriteByte(' ')
		st.b.WriteString(a.Key)
		st.b.WriteString(`="`)
		escapeInto(&st.b, a.Val)
		st.b.WriteByte('"')
	}
	if void {
		st.b.WriteString("/>")
	} else {
		st.b.WriteByte('>')
	}
	st.freshPre = name == "pre"
	return true
}

// escapeInto writes s escaped as html.Render escapes text and attribute
// values.
func escapeInto(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		esc := escapes[s[i]]
		if esc == "" {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// escapes are html.Render's escapes, by byte.
var escapes = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;", '\r': "&#13;"}

// How the stream handles a start tag in the body, by name, as
// x/net/html's "in body" insertion mode does (or not at all: startTree).
// These tables follow x/net/html v0.62's inBodyIM, inTableIM and their
// scopes, not the HTML standard where the two differ: read them again
// when x/net is upgraded (TestSafeHTML_StreamCorpus and FuzzSafeHTML
// fail where they no longer agree).
// Names not listed are opened like any element: the formatting elements
// among them too, since with nothing misnested the tree builder never
// opens one again.
const (
	startOpen     = iota // open it
	startIgnore          // the tree builder ignores it in a fragment
	startBlock           // closes an open p
	startHeading         // closes an open p, and a heading if current
	startListItem        // closes an open p, and an open li (or dd, dt)
	startLink            // closes an open a
	startVoid            // written, never open
	startRaw             // dropped with its raw text (an iframe kept if a video)
	startTree            // only the tree builder handles it
)

var streamStarts = func() map[string]int {
	m := map[string]int{"a": startLink}
	for kind, names := range map[int][]string{
		startIgnore: {"html", "body", "head"},
		startBlock: {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir",
			"div", "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
			"nav", "ol", "p", "search", "section", "summary", "ul", "pre", "table"},
		startHeading:  {"h1", "h2", "h3", "h4", "h5", "h6"},
		startListItem: {"li", "dd", "dt"},
		startVoid:     {"area", "br", "embed", "img", "keygen", "wbr", "param", "source", "track", "hr"},
		startRaw:      {"script", "style", "iframe"},
		startTree: {"frameset", "listing", "form", "plaintext", "button", "nobr", "applet", "marquee",
			"object", "input", "image", "textarea", "xmp", "noembed", "noscript", "select", "option",
			"optgroup", "rb", "rtc", "rp", "rt", "math", "svg", "caption", "col", "colgroup", "frame",
			"tbody", "td", "tfoot", "th", "thead", "tr", "base", "basefont", "bgsound", "link", "meta",
			"noframes", "template", "title"},
	} {
		for _, n := range names {
			m[n] = kind
		}
	}
	return m
}()

// How the stream handles an end tag that does not close the current
// element: the tree builder ignores it (endIgnore); it closes the
// innermost open element of its name in the body's scope (endBlock), the
// innermost li unless a list is nearer (endListItem), the innermost
// heading when it has that name (endHeading), or the innermost table part
// of its name in the table (endTable). Any other goes to the tree builder.
const (
	endTree = iota
	endIgnore
	endBlock
	endListItem
	endHeading
	endTable
)

var streamEnds = func() map[string]int {
	m := map[string]int{"li": endListItem}
	for kind, names := range map[int][]string{
		// The void elements but br, which the tree builder takes for <br>.
		endIgnore: {"html", "body", "head", "area", "embed", "hr", "img", "keygen", "wbr", "param", "source", "track"},
		endBlock: {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
			"dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol",
			"search", "section", "summary", "ul", "p", "dd", "dt", "pre"},
		endHeading: {"h1", "h2", "h3", "h4", "h5", "h6"},
		endTable:   {"table", "tbody", "thead", "tfoot", "tr", "td", "th"},
	} {
		for _, n := range names {
			m[n] = kind
		}
	}
	return m
}()

var (
	headings      = setOf("h1", "h2", "h3", "h4", "h5", "h6")
	tableParts    = setOf("table", "tbody", "thead", "tfoot", "tr", "td", "th")
	tableSections = setOf("tbody", "thead", "tfoot")
	// The scopes the stream looks for an open element in: in the body an
	// element is out of reach beyond a table or a cell, in a table beyond
	// the table, and in a list beyond the list too.
	bodyScope     = setOf("table", "td", "th")
	tableScope    = setOf("table")
	listItemScope = setOf("table", "td", "th", "ol", "ul")
	formatting    = setOf("a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u")
	// special is x/net/html's isSpecialElement for the elements the
	// stream opens (dialog and search are not special there).
	special = setOf("address", "article", "aside", "blockquote", "center", "details", "dir", "div", "dl",
		"fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p",
		"section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dd", "dt", "pre", "table",
		"tbody", "thead", "tfoot", "tr", "td", "th", "iframe")
)
