package postgres

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// The search index, item_search, holds a tsvector per item: its title
// and the text of its summary, content and fetched article, not
// their markup: indexed as stored, every item's sanitized HTML would make
// href, https, rel and noopener match nearly everything. Storage writes
// the text from Go, in the transaction that writes the item (SaveItems,
// SavePage), as storage/sqlite does; an item's row goes with it (ON DELETE
// CASCADE). The configuration is feedmux_search (see the migration):
// 'simple', with unaccent when the server has it.

// searchConfig is the text search configuration of the index and queries.
const searchConfig = "feedmux_search"

// maxSearchText bounds the text indexed of one item's body: a tsvector
// holds at most 1 MB, lexemes and positions, and PostgreSQL refuses to
// store a larger one.
const maxSearchText = 384 << 10

// searchRow is an item's text for the index.
type searchRow struct {
	id                               int64
	title, summary, content, article string
}

// indexItems writes the items' text into the index, replacing what it
// held for them, in one statement. The body's positions start two after
// the title's last, so that no phrase spans the two (FTS5 matches a phrase
// within a column): a lexeme no query can hold, a space, takes the place
// between them, and ts_delete takes it out again.
func indexItems(ctx context.Context, tx pgx.Tx, rows []searchRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	titles := make([]string, len(rows))
	bodies := make([]string, len(rows))
	for i, r := range rows {
		// Titles are plain text already. Lower case here, as ParseSearch
		// writes the query: PostgreSQL folds the case of only ASCII in a
		// database whose LC_CTYPE is C.
		ids[i], titles[i] = r.id, strings.ToLower(text(r.title))
		bodies[i] = strings.ToLower(text(truncate(feedmux.SearchBody(r.summary, r.content, r.article), maxSearchText)))
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_search (item_id, doc)
		SELECT id, ts_delete(to_tsvector('`+searchConfig+`', title) || $$' ':1$$::tsvector
			|| to_tsvector('`+searchConfig+`', body), ' ')
		FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r (id, title, body)
		ON CONFLICT (item_id) DO UPDATE SET doc = excluded.doc`, ids, titles, bodies)
	return err
}

// tsquery writes a parsed query as a tsquery expression of p's
// parameters: each term, word or phrase, is phraseto_tsquery of its text
// (so a word the parser splits, middle-east or a.example, is the phrase of
// its parts, as the index holds them), alternatives joined by ||, groups
// by &&, each exclusion added with && !!. No user text is part of the SQL.
func tsquery(p *params, s *feedmux.Search) string {
	term := func(t feedmux.SearchTerm) string {
		return `phraseto_tsquery('` + searchConfig + `', ` + p.add(t.Text) + `)`
	}
	var groups []string
	for _, g := range s.Groups {
		var alts []string
		for _, t := range g {
			alts = append(alts, term(t))
		}
		groups = append(groups, "("+strings.Join(alts, " || ")+")")
	}
	for _, t := range s.Not {
		groups = append(groups, "!!"+term(t))
	}
	return "(" + strings.Join(groups, " && ") + ")"
}

// truncate cuts s to at most n bytes, at the start of a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
