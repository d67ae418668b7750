package feedmux

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// TagSlug turns a category or a topic name into a tag slug: NFKC-normalized,
// lower case, Unicode letters and digits kept (with the combining marks that
// belong to them, so Arabic or Devanagari words stay whole), every run of
// other characters turned into one "-", and no "-" at either end.
//
//	"Israel-Gaza War Updates" → "israel-gaza-war-updates"
//	"الشرق الأوسط"             → "الشرق-الأوسط"
func TagSlug(s string) string {
	// Bytes that are not UTF-8 separate words; left in, they stop NFKC
	// from normalizing what follows them.
	s = norm.NFKC.String(strings.ToValidUTF8(s, " "))
	var b strings.Builder
	b.Grow(len(s))
	dash := false // a separator is pending
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r),
			unicode.IsMark(r) && b.Len() > 0 && !dash:
			if dash {
				b.WriteByte('-')
				dash = false
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = b.Len() > 0
		}
	}
	// Lower-casing can leave a letter and its mark composable ("Y" + ring
	// becomes "y" + ring, which NFKC writes as "ẙ"): normalize once more.
	return norm.NFKC.String(b.String())
}

// ValidTag reports whether s is a non-empty tag slug.
func ValidTag(s string) bool {
	if valid, ascii := asciiSlug(s); ascii {
		return valid
	}
	return s != "" && TagSlug(s) == s
}

// asciiSlug says whether s, when it is ASCII, is a slug: words of a-z and
// 0-9 joined by single hyphens, which TagSlug keeps as they are. Every
// request for a tag feed checks its tags, and TagSlug's normalizing is
// most of that check's cost.
func asciiSlug(s string) (valid, ascii bool) {
	valid = s != "" && s[0] != '-' && s[len(s)-1] != '-'
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return false, false
		case c == '-':
			valid = valid && s[i-1] != '-'
		case c < '0' || c > '9' && c < 'a' || c > 'z':
			valid = false
		}
	}
	return valid, true
}
