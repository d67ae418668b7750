package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/feedmux/feedmux"
)

// health records the outcome of every write transaction.
type health struct {
	mu sync.Mutex
	feedmux.WriteHealth
}

// record notes the outcome of one write transaction and returns err,
// wrapped in feedmux.ErrStorage when it is a local fault.
func (h *health) record(ctx context.Context, err error, now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.Err, h.Since = nil, time.Time{}
		return nil
	case ctx.Err() != nil || !localFault(err):
		return err // the caller's mistake or a canceled context: says nothing of the database
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
func (db *DB) WriteHealth() feedmux.WriteHealth {
	db.health.mu.Lock()
	defer db.health.mu.Unlock()
	return db.health.WriteHealth
}

// localFault reports whether err is PostgreSQL's (or the connection's)
// word for a fault of the database rather than of the statement: the
// server's disk is full or failing, it is read-only (a standby, or
// default_transaction_read_only), out of resources, shutting down,
// corrupt, or cannot be reached.
func localFault(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "25006", // read_only_sql_transaction
			strings.HasPrefix(pe.Code, "53"),  // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "58"),  // system error: I/O error, undefined file
			strings.HasPrefix(pe.Code, "08"),  // connection exception
			strings.HasPrefix(pe.Code, "57P"), // operator intervention: shutdown, cannot connect now
			strings.HasPrefix(pe.Code, "XX"):  // internal error: data or index corrupted
			return true
		}
		return false
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err)
}
