package feedmux

import (
	"cmp"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The stack of open elements of streamMarkup, standing in for the tree.

// closeP closes an open p as the start of a block does, false when that
// would close a formatting element with it.
func (st *streamer) closeP() bool {
	at := st.index("p", bodyScope)
	return at < 0 || st.popTo(at)
}

// closeListItem closes the li (for li) or the dd or dt (for either) that
// the tree builder closes before opening name: one open with nothing
// between but address, div, p and elements that are not special. It is
// false when that would close a formatting element with it.
func (st *streamer) closeListItem(name string) bool {
	for i := len(st.open) - 1; i >= 0; i-- {
		n := st.open[i].name
		switch {
		case n == name || name != "li" && (n == "dd" || n == "dt"):
			return st.popTo(i)
		case n == "address" || n == "div" || n == "p":
		case special[n]:
			return true
		}
	}
	return true
}

// popTo closes the open elements from the current one to the one at i,
// false (closing none) when a formatting element is among those above it.
func (st *streamer) popTo(i int) bool {
	for _, e := range st.open[i+1:] {
		if formatting[e.name] {
			return false
		}
	}
	for len(st.open) > i {
		st.pop()
	}
	return true
}

// inTable tells whether the innermost open table part is not a cell: the
// tree builder is in a table, section or row there.
func (st *streamer) inTable() bool {
	at := st.index("", tableParts)
	return at >= 0 && st.open[at].name != "td" && st.open[at].name != "th"
}

// index is the position of the innermost open element named name (or,
// for name "", of any in within), -1 when there is none or an element of
// within comes first.
func (st *streamer) index(name string, within map[string]bool) int {
	for i := len(st.open) - 1; i >= 0; i-- {
		n := st.open[i].name
		switch {
		case n == name || name == "" && within[n]:
			return i
		case name != "" && within[n]:
			return -1
		}
	}
	return -1
}

// heading is the position of the innermost open heading in the body's
// scope, -1 when there is none.
func (st *streamer) heading() int {
	for i := len(st.open) - 1; i >= 0; i-- {
		switch n := st.open[i].name; {
		case headings[n]:
			return i
		case bodyScope[n]:
			return -1
		}
	}
	return -1
}

func (st *streamer) top() string { return st.open[len(st.open)-1].name }

func (st *streamer) isOpen(name string) bool { return st.index(name, nil) >= 0 }

// fill notes that the current element has a child.
func (st *streamer) fill() {
	if len(st.open) > 0 {
		st.open[len(st.open)-1].filled = true
	}
}

// atomName is a tag or attribute name as the tokenizer's Token gives it:
// the atom's string when there is one.
func atomName(raw []byte) string {
	if a := atom.Lookup(raw); a != 0 {
		return a.String()
	}
	return string(raw)
}

// readTag reads the current tag's name and attributes (into st.attrs).
func (st *streamer) readTag() string {
	raw, more := st.z.TagName()
	name := atomName(raw)
	st.attrs = st.attrs[:0]
	for more {
		var key, val []byte
		key, val, more = st.z.TagAttr()
		st.attrs = append(st.attrs, html.Attribute{Key: atomName(key), Val: string(val)})
	}
	return name
}

// push opens element name, with st.attrs, as the current element.
func (st *streamer) push(name string) {
	if formatting[name] {
		// x/net/html sorts a formatting element's attributes (to compare
		// them for the Noah's Ark clause), and so renders them sorted.
		slices.SortFunc(st.attrs, func(a, b html.Attribute) int {
			return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Val, b.Val))
		})
	}
	st.fill()
	if name == "table" {
		st.tables++
	}
	st.open = append(st.open, openElement{name: name, written: st.write(name, st.attrs, false)})
}

// pop closes the current element.
func (st *streamer) pop() {
	e := st.open[len(st.open)-1]
	st.open = st.open[:len(st.open)-1]
	if e.name == "table" {
		st.tables--
	}
	if e.written {
		st.freshPre = false
		st.b.WriteString("</")
		st.b.WriteString(keptName(e.name))
		st.b.WriteByte('>')
	}
}
