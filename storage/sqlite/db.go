// Package sqlite keeps feedmux's feeds, items and tags in SQLite through
// modernc.org/sqlite. It implements feedmux.Store; its SQL is its own: callers use
// domain-level methods and get root-package values and sentinel errors back.
//
// A DB holds two handles: one writer connection, so writes queue in Go rather
// than fail with SQLITE_BUSY, and a pool of read-only connections that WAL
// lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/feedmux/feedmux/storage/batch"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a feedmux database. Its methods are safe for concurrent use.
type DB struct {
	write *sql.DB
	read  *sql.DB
	path  string

	// Now returns the current time; tests replace it.
	Now    func() time.Time
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared read queries, by text
	writes map[string]*sql.Stmt // the saves' statements, by text (prepareWrites)

	// Retention's per-feed limit is kept by SaveItems as it stores, so a
	// feed never holds more; Prune applies both limits.
	Retention Retention

	health health                    // the outcome of the latest write
	group  *batch.Committer[*sql.Tx] // the polls' saves, in group commits

	// toIndex holds the search index rows of the write transaction under
	// way (one at a time: one connection writes), indexed at its end.
	toIndex struct {
		sync.Mutex
		rows []searchRow
	}
}

// maxBatch is the most saves one group commit carries.
const maxBatch = 32

// Open opens the database at path, creating it and its directory when
// missing, and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		// Each pooled connection would get its own empty in-memory database.
		return nil, fmt.Errorf("open database: a file path is required")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	db := &DB{path: path, Now: time.Now}
	db.group = batch.New(maxBatch, db.inTx)
	var err error
	if db.write, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.fillSearch(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.prepareWrites(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if db.read, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	return db, nil
}

// dsn puts every connection setting in the DSN, because database/sql opens
// connections behind our back and a one-off PRAGMA reaches only one of them.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		// Each reader keeps its own copy of the pages it read: 1 MB each
		// rather than SQLite's 2 MB took 6-10 MB off a 2,000-feed ingest's
		// peak (BENCHMARKS.md), the kernel's cache holds the rest.
		q.Add("_pragma", "cache_size(-1000)")
	} else {
		q.Add("_pragma", "auto_vacuum(incremental)")
		q.Set("_txlock", "immediate")
		// Statement journals in memory: an upsert opens one per statement,
		// and on disk each was a write (a seventh of a cold ingest's CPU).
		q.Add("_pragma", "temp_store(memory)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database. Writes in flight finish first.
func (db *DB) Close() error {
	var errs []error
	db.stmtMu.Lock()
	for _, st := range db.stmts {
		st.Close()
	}
	db.stmts = nil
	db.stmtMu.Unlock()
	for _, st := range db.writes {
		st.Close()
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		if _, err := db.write.Exec("PRAGMA optimize"); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, db.write.Close())
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("close database %s: %w", db.path, err)
		}
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check and returns nil when it
// reports "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	return nil
}

// migrate applies the embedded migrations the database has not seen, each in
// its own transaction together with the user_version that records it.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var version int
	if err := db.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this feedmux knows (%d)", version, len(names))
	}
	for i, name := range names[version:] {
		n := version + i + 1
		if prefix, _, _ := strings.Cut(filepath.Base(name), "_"); prefix != fmt.Sprintf("%04d", n) {
			return fmt.Errorf("migration %s is out of sequence (want %04d)", name, n)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := db.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(n))
			return err
		}); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// Every write goes through it, so its outcome is the database's write
// health: a local fault is wrapped in feedmux.ErrStorage.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.health.record(db.runTx(ctx, fn), db.Now())
}

// runTx runs fn in a write transaction and commits it. The search index
// rows fn's saves left (indexLater) are written last, in one statement:
// FTS5 writes its pending rows out as a segment at every statement
// savepoint, so rows indexed after each poll of a group commit made a
// segment per poll, and more merging.
func (db *DB) runTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = fn(tx)
	db.toIndex.Lock()
	rows := db.toIndex.rows
	db.toIndex.rows = nil
	db.toIndex.Unlock()
	if err == nil {
		if err = indexItems(ctx, tx, rows); err != nil {
			err = fmt.Errorf("index: %w", err)
		}
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
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
func nullUnix(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.Unix(), Valid: !t.IsZero()}
}

func fromNullUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Size is the database's size on disk: the file and its write-ahead log.
func (db *DB) Size() (int64, error) {
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(db.path + suffix)
		if err != nil {
			if suffix != "" && os.IsNotExist(err) {
				continue
			}
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

// ItemCount is the number of stored items, copies included.
func (db *DB) ItemCount(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&n)
	return n, err
}
