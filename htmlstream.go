package feedmux

import (
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// streamMarkup is safeMarkup's fast path: the same allowlist applied to
// the tokens as they come, with no tree. Most item HTML is well nested
// and needs nothing of the tree builder but a stack of open elements, so
// for it the result is the one the tree gives, byte for byte, for less
// than half the work.
//
// It gives up (ok false) at the first token whose handling by
// x/net/html's tree builder would do more than it knows how to (the
// names are in htmlstream_names.go): an end tag that closes a formatting
// element that is not the current one (misnesting, the adoption agency),
// text or a misplaced element in a table (foster parenting), forms,
// foreign content, most raw-text elements, and the like. safeMarkup then
// takes the tree. TestSafeHTML_Stream, TestSafeHTML_StreamCorpus and
// FuzzSafeHTML check that the two agree.
func streamMarkup(s string, base *url.URL) (string, bool) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", false // the tree builder drops NULs from text
	}
	st := streamer{z: html.NewTokenizer(strings.NewReader(s)), base: base}
	st.b.Grow(len(s) + len(s)/8)
	for {
		tt, ok := st.z.Next(), true
		switch {
		case tt == html.ErrorToken:
			if st.z.Err() != io.EOF {
				return "", false
			}
			for len(st.open) > 0 {
				st.pop()
			}
			return st.b.String(), true
		case st.skipping != "":
			// The raw text of a script, style or iframe, then its end tag.
			if tt == html.EndTagToken {
				if st.skipping == "iframe" {
					st.pop()
				}
				st.skipping = ""
			}
		case tt == html.TextToken:
			ok = st.text(st.z.Text())
		case tt == html.StartTagToken || tt == html.SelfClosingTagToken:
			ok = st.start(tt == html.SelfClosingTagToken)
		case tt == html.EndTagToken:
			ok = st.end()
		case tt == html.CommentToken:
			st.fill() // a child, though cleanChildren removes it
		default:
			ok = false // a doctype
		}
		if !ok {
			return "", false
		}
	}
}

// streamer is streamMarkup's state: the output and the open elements.
type streamer struct {
	z        *html.Tokenizer
	base     *url.URL
	b        strings.Builder
	open     []openElement
	tables   int    // open table elements
	skipping string // the script, style or iframe whose raw text this is
	freshPre bool   // the last thing written is a pre's start tag
	attrs    []html.Attribute
}

// openElement is an element on the stack: its name in the input, whether
// it was written (not unwrapped), and whether it has a child yet.
type openElement struct {
	name            string
	written, filled bool
}

// text writes a text token, false when it is text in a table outside a
// cell.
func (st *streamer) text(raw []byte) bool {
	if st.tables > 0 && st.inTable() && len(strings.Trim(string(raw), " \t\r\n\f")) > 0 {
		return false
	}
	if len(st.open) > 0 && st.top() == "pre" && !st.open[len(st.open)-1].filled && len(raw) > 0 && raw[0] == '\n' {
		raw = raw[1:] // the tree builder drops a pre's leading newline
	}
	if len(raw) == 0 {
		return true
	}
	st.fill()
	if st.freshPre && raw[0] == '\n' {
		// html.Render doubles the newline, so that a parser keeps it.
		st.b.WriteByte('\n')
	}
	st.freshPre = false
	escapeInto(&st.b, string(raw))
	return true
}

// start handles a start tag, false when the tree builder would do more
// than open the element (or write a void one) after closing some.
func (st *streamer) start(selfClosing bool) bool {
	name := st.readTag()
	if st.tables > 0 && st.inTable() {
		return st.startInTable(name, selfClosing)
	}
	switch streamStarts[name] {
	case startIgnore:
		return true
	case startBlock:
		if !st.closeP() {
			return false
		}
	case startHeading:
		if !st.closeP() {
			return false
		}
		if len(st.open) > 0 && headings[st.top()] {
			st.pop()
		}
	case startListItem:
		if !st.closeListItem(name) || !st.closeP() {
			return false
		}
	case startLink:
		if st.isOpen("a") {
			return false
		}
	case startVoid:
		if name == "hr" && !st.closeP() {
			return false
		}
		st.fill()
		st.write(name, st.attrs, true)
		return true
	case startRaw:
		if selfClosing {
			return false
		}
		st.fill()
		st.skipping = name
		if name == "iframe" {
			st.push(name)
		}
		return true
	case startTree:
		return false
	}
	st.push(name)
	return true
}

// startInTable handles a start tag in a table outside a cell: the table's
// sections, rows and cells in their places, a row's implied section, and
// scripts and styles.
func (st *streamer) startInTable(name string, selfClosing bool) bool {
	top := st.top()
	switch {
	case name == "script" || name == "style":
		if selfClosing {
			return false
		}
		st.fill()
		st.skipping = name
	case tableSections[name] && top == "table",
		name == "tr" && tableSections[top],
		(name == "td" || name == "th") && top == "tr":
		st.push(name)
	case name == "tr" && top == "table":
		attrs := st.attrs
		st.attrs = nil
		st.push("tbody")
		st.attrs = attrs
		st.push(name)
	default:
		return false
	}
	return true
}

// end handles an end tag, false unless it closes the current element, or
// an element whose closing the tree builder does by popping what is above
// it when none of that is a formatting element (which the tree builder
// would open again later), or it is one the tree builder ignores.
func (st *streamer) end() bool {
	name := st.readTag()
	if len(st.open) > 0 && st.top() == name {
		st.pop()
		return true
	}
	at := -1
	switch streamEnds[name] {
	case endIgnore:
		return true
	case endBlock:
		at = st.index(name, bodyScope)
	case endListItem:
		at = st.index(name, listItemScope)
	case endHeading:
		at = st.heading()
		if at >= 0 && st.open[at].name != name {
			return false
		}
	case endTable:
		at = st.index(name, tableScope)
	}
	return at >= 0 && st.popTo(at)
}
