package sqlite

import (
	"strings"

	"github.com/feedmux/feedmux"
)

// ftsString is a term as an FTS5 string: in double quotes, a quote in it
// doubled, so that no character of it is FTS5 syntax.
func ftsString(t feedmux.SearchTerm) string { return `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"` }

// fts5Match writes a parsed query in FTS5 syntax. Every operand is in
// parentheses: FTS5 gives NOT, AND and OR their own precedence, which this
// way never matters.
func fts5Match(s *feedmux.Search) string {
	var match []string
	for _, g := range s.Groups {
		var alts []string
		for _, t := range g {
			alts = append(alts, ftsString(t))
		}
		match = append(match, "("+strings.Join(alts, " OR ")+")")
	}
	m := "(" + strings.Join(match, " AND ") + ")"
	for _, t := range s.Not {
		m = "(" + m + " NOT " + ftsString(t) + ")"
	}
	return m
}
