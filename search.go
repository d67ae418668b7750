package feedmux

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Limits of a search query.
const (
	maxSearchBytes = 256
	maxSearchTerms = 16
)

// Search is a parsed search query: the items that match every group
// (one of its alternatives) and none of Not. Each store writes it in its
// own query language.
type Search struct {
	Groups [][]SearchTerm
	Not    []SearchTerm
	// Normal is the query written out again in its one normal form: words
	// lower case, terms in the order given but exclusions last, one space
	// between them. Queries that differ only in case, spacing and where the
	// exclusions stand have the same Normal, and Normal parses to itself.
	Normal string
}

// SearchTerm is one word or phrase of a query.
type SearchTerm struct {
	Text   string // lower case, without the quotes
	Phrase bool   // written in double quotes
}

// term is a SearchTerm as it is scanned.
type term struct {
	text   string // lower case, without the quotes
	phrase bool   // written in double quotes
	not    bool   // written with a leading '-'
}

// ParseSearch parses a search query: words that must all match, "phrases",
// OR between two terms (a b OR c: a and either b or c), -word and -"phrase"
// to leave out the items that match them. Its errors say what is wrong in
// words a reader of the query understands.
func ParseSearch(q string) (Search, error) {
	if len(q) > maxSearchBytes {
		return Search{}, fmt.Errorf("the query is too long: at most %d bytes", maxSearchBytes)
	}
	tokens, err := scanSearch(q)
	if err != nil {
		return Search{}, err
	}
	// groups are the terms that must all match, each a list of
	// alternatives joined by OR; not the terms that must not.
	var groups [][]term
	var not []term
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if t.text == "OR" && !t.phrase && !t.not {
			return Search{}, errors.New("OR needs a word or phrase on both sides")
		}
		if t.not {
			if i+1 < len(tokens) && isOr(tokens[i+1]) {
				return Search{}, fmt.Errorf("OR cannot join an exclusion (-%s)", t.written())
			}
			not = append(not, t)
			continue
		}
		group := []term{t}
		for i+2 < len(tokens) && isOr(tokens[i+1]) {
			next := tokens[i+2]
			if isOr(next) {
				return Search{}, errors.New("OR needs a word or phrase on both sides")
			}
			if next.not {
				return Search{}, fmt.Errorf("OR cannot join an exclusion (-%s)", next.written())
			}
			group = append(group, next)
			i += 2
		}
		if i+1 < len(tokens) && isOr(tokens[i+1]) && i+2 == len(tokens) {
			return Search{}, errors.New("OR needs a word or phrase on both sides")
		}
		groups = append(groups, group)
	}
	switch {
	case len(tokens) == 0:
		return Search{}, errors.New("the query is empty: give at least one word")
	case len(groups) == 0:
		return Search{}, errors.New("the query only excludes: give at least one word that must match")
	case len(not)+countTerms(groups) > maxSearchTerms:
		return Search{}, fmt.Errorf("the query is too long: at most %d words and phrases", maxSearchTerms)
	}
	return buildSearch(groups, not), nil
}

func countTerms(groups [][]term) int {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	return n
}

func isOr(t term) bool { return t.text == "OR" && !t.phrase && !t.not }

// scanSearch splits a query into its terms; "OR" stays upper case, so
// that ParseSearch can tell the operator from the word "or".
func scanSearch(q string) ([]term, error) {
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(q, " "))
	var tokens []term
	for {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		if q == "" {
			return tokens, nil
		}
		var t term
		if rest, ok := strings.CutPrefix(q, "-"); ok {
			t.not, q = true, rest
		}
		if rest, ok := strings.CutPrefix(q, `"`); ok {
			text, after, closed := strings.Cut(rest, `"`)
			if !closed {
				return nil, errors.New(`a phrase's double quote (") is not closed`)
			}
			t.text, t.phrase, q = strings.Join(strings.Fields(text), " "), true, after
		} else {
			end := strings.IndexFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(q)
			}
			t.text, q = q[:end], q[end:]
		}
		if !strings.ContainsFunc(t.text, func(r rune) bool { return unicode.In(r, unicode.L, unicode.N) }) {
			if t.not && !t.phrase && t.text == "" {
				return nil, errors.New("a '-' must be followed by the word or phrase to leave out")
			}
			return nil, fmt.Errorf("%s has no letters or digits to search for", t.written())
		}
		if t.text != "OR" || t.phrase || t.not {
			t.text = strings.ToLower(t.text)
		}
		tokens = append(tokens, t)
	}
}

// written is the term as Normal writes it, without its '-'.
func (t term) written() string {
	if t.phrase {
		return `"` + t.text + `"`
	}
	return t.text
}

// buildSearch keeps the parsed query and writes it in normal form.
func buildSearch(groups [][]term, not []term) Search {
	var s Search
	var normal []string
	for _, g := range groups {
		var alts []SearchTerm
		var words []string
		for _, t := range g {
			alts = append(alts, SearchTerm{Text: t.text, Phrase: t.phrase})
			words = append(words, t.written())
		}
		s.Groups = append(s.Groups, alts)
		normal = append(normal, strings.Join(words, " OR "))
	}
	for _, t := range not {
		s.Not = append(s.Not, SearchTerm{Text: t.text, Phrase: t.phrase})
		normal = append(normal, "-"+t.written())
	}
	s.Normal = strings.Join(normal, " ")
	return s
}

// SearchBody is the text of an item a search looks at besides its title:
// its summary, its content and the article its page gave, each once, as
// text. Every store indexes this, so that a query finds the same items in
// each.
func SearchBody(summary, content, article string) string {
	parts := []string{HTMLText(summary)}
	for _, s := range []string{content, article} {
		if s != "" && s != summary {
			parts = append(parts, HTMLText(s))
		}
	}
	return strings.Join(parts, "\n")
}

// HTMLText is the text of an HTML fragment: every tag a space, entities
// decoded, the contents of script and style left out. It reads what
// SafeHTML wrote (every '<' of text escaped, no comments, quotes escaped
// in attributes), so a scan for '<' and '>' finds its tags; a '<' not
// followed by a tag's first character is text, as a browser takes it.
// It is a fifth of what x/net/html's tokenizer costs, and it runs for
// every item stored: for the search index and for topic rules.
func HTMLText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for s != "" {
		i := textEnd(s)
		writeHTMLText(&b, s[:i])
		if s = s[i:]; s == "" {
			break
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			break // an unclosed tag: what follows is inside it
		}
		tag := s[1:end]
		s = s[end+1:]
		b.WriteByte(' ')
		if name := tagName(tag); tag[0] != '/' && (name == "script" || name == "style") {
			close := indexFold(s, "</"+name)
			if close < 0 {
				break
			}
			s = s[close:]
		}
	}
	return b.String()
}

// textEnd is where the text at the start of s ends: at the first '<' that
// opens a tag, an end tag, a comment or a declaration.
func textEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' || i+1 == len(s) {
			continue
		}
		switch c := s[i+1]; {
		case c == '/' || c == '!' || c == '?', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			return i
		}
	}
	return len(s)
}

func writeHTMLText(b *strings.Builder, text string) {
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	b.WriteString(text)
}

// tagName is the lower-cased name of the start tag whose text between '<'
// and '>' is tag ("p class=x").
func tagName(tag string) string {
	end := strings.IndexAny(tag, " \t\n\r\f/")
	if end < 0 {
		end = len(tag)
	}
	return strings.ToLower(tag[:end])
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
