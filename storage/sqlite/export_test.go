package sqlite

import (
	"context"
	"database/sql"

	"github.com/feedmux/feedmux"
)

// SearchMatches counts the items that match an FTS5 query, copies
// included, for the search benchmark's report.
func (db *DB) SearchMatches(ctx context.Context, s *feedmux.Search) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items_search WHERE items_search MATCH ?`, fts5Match(s)).Scan(&n)
	return n, err
}

// SharedWrites counts the writes committed in a transaction with others.
func (db *DB) SharedWrites() int64 { return db.group.Shared() }

// HoldWriter runs hold inside a write transaction of the group commit, so
// that a test can queue writes behind it.
func (db *DB) HoldWriter(ctx context.Context, hold func()) error {
	return db.group.Do(ctx, func(*sql.Tx) error { hold(); return nil })
}

// QueuedWrites counts the writes waiting for the writer.
func (db *DB) QueuedWrites() int { return db.group.Queued() }
