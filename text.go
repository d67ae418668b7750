package feedmux

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// XMLText returns s without what XML 1.0 cannot carry: invalid UTF-8 becomes
// U+FFFD, and control characters other than tab, newline and carriage return,
// surrogates and the non-characters U+FFFE and U+FFFF are dropped.
func XMLText(s string) string {
	if xmlClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				b.WriteRune(utf8.RuneError)
			}
		case xmlChar(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// XMLBytes is XMLText for a document's bytes: b itself, not a copy, when
// there is nothing to remove (almost always: a feed of 100 KB was copied
// twice to find that out).
func XMLBytes(b []byte) []byte {
	if len(b) == 0 || xmlClean(unsafe.String(&b[0], len(b))) {
		return b
	}
	return []byte(XMLText(string(b)))
}

func xmlClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !xmlChar(r) })
		}
	}
	return true
}

// xmlChar reports whether r matches the Char production of XML 1.0.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
