package postgres

import (
	"context"

	"github.com/feedmux/feedmux"
)

// SearchMatches counts the rows of the search index that match a query,
// copies included, as storage/sqlite's tests count them.
func (db *DB) SearchMatches(ctx context.Context, s *feedmux.Search) (int, error) {
	var p params
	q := tsquery(&p, s)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM item_search WHERE doc @@ `+q, p...).Scan(&n)
	return n, err
}

// Reconnect closes the pool's idle connections, so that the next ones are
// new sessions (with the database's settings as they are now).
func (db *DB) Reconnect() { db.pool.Reset() }
