package sqlite

import (
	"context"

	"github.com/feedmux/feedmux"
)

// SearchMatches counts the items that match an FTS5 query, copies
// included, for the search benchmark's report.
func (db *DB) SearchMatches(ctx context.Context, s *feedmux.Search) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items_search WHERE items_search MATCH ?`, fts5Match(s)).Scan(&n)
	return n, err
}
