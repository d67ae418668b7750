// Package postgres keeps feedmux's feeds, items and tags in PostgreSQL
// through pgx. It implements feedmux.Store with the behaviour of
// storage/sqlite, which is its specification: the same identities, the
// same upsert, copies, tags, retention, stories, queues and cursors. Its
// SQL is its own: callers use domain-level methods and get root-package
// values and sentinel errors back.
//
// Writes are serialized, as SQLite's one writer serializes them: each
// write transaction first takes a transaction-level advisory lock, so that
// two polls placing copies of one article, say, never race, whichever
// processes run them. Reads run beside the writes, on the pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/batch"
)

// Advisory lock keys: one for migrating, one for writing. Any two numbers
// no other user of the database takes; these spell "feedmux" and "write".
const (
	migrateLock = 0x666565646d7578
	writeLock   = 0x7772697465
)

// DB is a feedmux database. Its methods are safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool

	// Now returns the current time; tests replace it.
	Now func() time.Time

	// Retention's per-feed limit is kept by SaveItems as it stores, so a
	// feed never holds more; Prune applies both limits.
	Retention feedmux.Retention

	// Instance names this process among those sharing the database, in
	// its claims of feeds (see ClaimFeed).
	Instance string

	health health                   // the outcome of the latest write
	group  *batch.Committer[pgx.Tx] // the polls' saves, in group commits
}

// maxBatch is the most saves one group commit carries.
const maxBatch = 32

// The PostgreSQL store is a whole feedmux.Store.
var _ feedmux.Store = (*DB)(nil)

// Open connects to the database at url, a postgres:// URL or a key=value
// connection string as libpq takes them (host=/path/to/socketdir for a
// unix socket), and brings its schema up to date. Several processes may
// open one database at once: one of them migrates it.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, fmt.Errorf("open database: invalid connection url")
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "feedmux"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.ConnConfig.Database, err)
	}
	db := &DB{pool: pool, Now: time.Now}
	db.group = batch.New(maxBatch, db.inTx)
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", cfg.ConnConfig.Database, err)
	}
	return db, nil
}

// Close closes the pool, waiting for the connections in use.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// Size is the database's size: pg_database_size, tables, indexes and
// their write-ahead log included.
func (db *DB) Size() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n, err
}

// IntegrityCheck checks what a PostgreSQL database can get wrong for
// feedmux cheaply: that the server answers, that every migration this
// feedmux knows is applied and none it does not, and that no index of the
// schema is invalid (a failed CREATE INDEX leaves one). PostgreSQL checks
// its own pages (and amcheck goes further, at the cost of reading them).
func (db *DB) IntegrityCheck(ctx context.Context) error {
	names, err := migrationNames()
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	var applied, newest, invalid int
	err = db.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(version), 0),
		(SELECT count(*) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
			WHERE NOT x.indisvalid AND c.relnamespace = current_schema()::regnamespace)
		FROM schema_migrations`).Scan(&applied, &newest, &invalid)
	switch {
	case err != nil:
		return fmt.Errorf("integrity check: %w", err)
	case applied != len(names) || newest != len(names):
		return fmt.Errorf("integrity check: %d migrations applied (newest %d), want %d", applied, newest, len(names))
	case invalid > 0:
		return fmt.Errorf("integrity check: %d invalid indexes", invalid)
	}
	return nil
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// Every write goes through it: it holds the write lock, and its outcome
// is the database's write health (a local fault is wrapped in
// feedmux.ErrStorage).
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLock)); err != nil {
			return err
		}
		return fn(tx)
	})
	return db.health.record(ctx, err, db.Now())
}

// ItemCount is the number of stored items, copies included.
func (db *DB) ItemCount(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&n)
	return n, err
}

// Meta returns a stored fact, "" when unset.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a fact.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// unix converts a time for storage: UTC unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// fromUnix is the inverse of unix.
func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// nullUnix stores a time that may be absent as NULL.
func nullUnix(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	s := t.Unix()
	return &s
}

func fromNullUnix(s *int64) time.Time {
	if s == nil {
		return time.Time{}
	}
	return time.Unix(*s, 0).UTC()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryColumn runs a query of one column and returns its values.
func queryColumn[T any](ctx context.Context, q querier, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[T])
}

// text is s as PostgreSQL's text takes it: it cannot hold NUL or invalid
// UTF-8, which SQLite stores as given. Normalization leaves neither in what
// a feed gives; this keeps anything else from failing a whole poll.
func text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
