// Package rows holds what both stores do with the rows their queries
// return and write, whichever the driver (database/sql for SQLite, pgx for
// PostgreSQL): collecting them, counting them by day, and an item's hash
// and JSON columns. It speaks no SQL; the queries stay in each store.
package rows

import (
	"fmt"
	"time"
)

// Rows is a query's result as both drivers give it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Collect scans every row with scan; what names the query in errors.
// The caller closes r.
func Collect[T any](r Rows, what string, scan func(Rows) (T, error)) ([]T, error) {
	var out []T
	for r.Next() {
		v, err := scan(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ActivityWindow is the span, in unix seconds, of the days days before
// now: the arguments of an activity query (after start, up to end).
func ActivityWindow(now time.Time, days int) (start, end int64) {
	end = now.Unix()
	return end - int64(days)*86400, end
}

// Activity counts the rows of a query that selects a key and a unix time
// in the window ActivityWindow gave start of, per key and day (oldest
// first). The caller closes r.
func Activity(r Rows, start int64, days int) (map[string][]int, error) {
	out := map[string][]int{}
	for r.Next() {
		var (
			key string
			t   int64
		)
		if err := r.Scan(&key, &t); err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		d := int((t - start - 1) / 86400)
		if d < 0 || d >= days {
			continue
		}
		if out[key] == nil {
			out[key] = make([]int, days)
		}
		out[key][d]++
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	return out, nil
}
