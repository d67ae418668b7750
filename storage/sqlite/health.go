package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/feedmux/feedmux"
)

// health records the outcome of every write transaction.
type health struct {
	mu sync.Mutex
	WriteHealth
}

// record notes the outcome of one write transaction and returns err,
// wrapped in feedmux.ErrStorage when it is a local fault.
func (h *health) record(err error, now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.Err, h.Since = nil, time.Time{}
		return nil
	case !localFault(err):
		return err // the caller's mistake or a canceled context: says nothing of the disk
	}
	err = fmt.Errorf("%w: %w", feedmux.ErrStorage, err)
	if h.Err == nil {
		h.Since = now
	}
	h.Err = err
	h.Failures++
	return err
}

// WriteHealth returns what the latest writes say about the database.
func (db *DB) WriteHealth() WriteHealth {
	db.health.mu.Lock()
	defer db.health.mu.Unlock()
	return db.health.WriteHealth
}

// localFault reports whether err is SQLite's word for a fault of the
// machine rather than of the statement: the disk or the size limit is
// full, the file system is read-only or failing, the file is gone.
func localFault(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PERM:
		return true
	}
	return false
}

// SetMaxSize limits the database file to about maxBytes (0: no limit
// beyond SQLite's own). A write that would grow it further fails as on a
// full disk, with feedmux.ErrStorage, until retention frees pages or the
// limit is raised. A limit below the current size holds the database at
// its current size.
func (db *DB) SetMaxSize(ctx context.Context, maxBytes int64) error {
	var pageSize int64
	if err := db.write.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("set max size: %w", err)
	}
	pages := int64(4294967294) // SQLite's largest
	if maxBytes > 0 {
		pages = max(1, maxBytes/pageSize)
	}
	// The writer is one connection that is never closed while the
	// database is open, so the per-connection setting holds.
	var got int64
	if err := db.write.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Scan(&got); err != nil {
		return fmt.Errorf("set max size: %w", err)
	}
	return nil
}
