package storage

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a search query.
const (
	maxSearchBytes = 256
	maxSearchTerms = 16
)

// Search is a parsed search query.
type Search struct {
	// Match is the query in FTS5 syntax, for ItemFilter.Search. Every term
	// the user wrote is in double quotes, so nothing in it is FTS5 syntax.
	Match string
	// Normal is the query written out again in its one normal form: words
	// lower case, terms in the order given but exclusions last, one space
	// between them. Queries that differ only in case, spacing and where the
	// exclusions stand have the same Normal, and Normal parses to itself.
	Normal string
}

// term is one word or phrase of a query.
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

// fts is the term as an FTS5 string: in double quotes, a quote in it
// doubled, so that no character of it is FTS5 syntax.
func (t term) fts() string { return `"` + strings.ReplaceAll(t.text, `"`, `""`) + `"` }

// buildSearch writes the parsed query in FTS5 syntax and in normal form.
// Every operand is in parentheses: FTS5 gives NOT, AND and OR their own
// precedence, which this way never matters.
func buildSearch(groups [][]term, not []term) Search {
	var match, normal []string
	for _, g := range groups {
		var alts, words []string
		for _, t := range g {
			alts = append(alts, t.fts())
			words = append(words, t.written())
		}
		match = append(match, "("+strings.Join(alts, " OR ")+")")
		normal = append(normal, strings.Join(words, " OR "))
	}
	m := "(" + strings.Join(match, " AND ") + ")"
	for _, t := range not {
		m = "(" + m + " NOT " + t.fts() + ")"
		normal = append(normal, "-"+t.written())
	}
	return Search{Match: m, Normal: strings.Join(normal, " ")}
}
