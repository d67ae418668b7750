package aggregator

import (
	"strings"
	"unicode"

	"github.com/feedmux/feedmux"
	"golang.org/x/text/unicode/norm"
)

// How topic rules read an item: its text by field, as words, and how a
// rule's phrase matches them.

// fields holds an item's text by field, raw and as match tokens.
type fields struct {
	raw  map[string][]string
	toks map[string][][]string
}

func itemText(it *feedmux.Item) *fields {
	f := &fields{raw: map[string][]string{
		FieldTitle:      {it.Title},
		FieldSummary:    {safeText(it.Summary)},
		FieldContent:    {safeText(it.Content)},
		FieldCategories: it.Categories,
	}, toks: map[string][][]string{}}
	for name, texts := range f.raw {
		for _, s := range texts {
			f.toks[name] = append(f.toks[name], matchTokens(s))
		}
	}
	return f
}

// safeText is the text of HTML that SafeHTML wrote, on one line: each tag
// a space, so that words in two paragraphs stay two words.
func safeText(s string) string {
	return feedmux.XMLText(strings.Join(strings.Fields(feedmux.HTMLText(s)), " "))
}

// tokens returns the token runs of the named fields; a phrase never spans
// two runs (two categories, or title and summary).
func (f *fields) tokens(names []string) [][]string {
	var out [][]string
	for _, n := range names {
		out = append(out, f.toks[n]...)
	}
	return out
}

// phrase is a rule's word or phrase as match tokens.
type phrase []string

func newPhrase(s string) phrase { return matchTokens(s) }

// in reports whether the phrase occurs, whole words, in one of the runs.
func (p phrase) in(runs [][]string) bool {
	if len(p) == 0 {
		return false
	}
	for _, toks := range runs {
		for i := 0; i+len(p) <= len(toks); i++ {
			ok := true
			for j := range p {
				if !tokenEqual(toks[i+j], p[j], j == 0) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// tokenEqual compares a text token with a phrase token. An Arabic word may
// carry a proclitic the phrase leaves out: "وغزة" and "بغزة" match "غزة".
func tokenEqual(tok, want string, first bool) bool {
	if tok == want {
		return true
	}
	if !first || !isArabicWord(want) {
		return false
	}
	for _, p := range []string{"وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف", "ك"} {
		if rest, ok := strings.CutPrefix(tok, p); ok && rest == want {
			return true
		}
	}
	return false
}

func isArabicWord(s string) bool {
	for _, r := range s {
		return unicode.Is(unicode.Arabic, r)
	}
	return false
}

// matchTokens splits text into NFKC-normalized, case-folded words. Any
// character that is not a letter, mark or digit separates words, so
// "Gaza's" holds the word "gaza" and "Iranian" does not hold "iran".
func matchTokens(s string) []string {
	s = strings.ToLower(norm.NFKC.String(s))
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}
