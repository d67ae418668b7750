package storage

import "context"

// SearchMatches counts the items that match an FTS5 query, copies
// included, for the search benchmark's report.
func (db *DB) SearchMatches(ctx context.Context, match string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items_search WHERE items_search MATCH ?`, match).Scan(&n)
	return n, err
}
