package sqlite

// Prepared statements: SQLite parses a statement's SQL each time it is
// prepared, which costs as much as running some of them, so the writes of
// every poll and grouping and the read queries that run often are
// prepared once and kept.

import (
	"context"
	"database/sql"
	"fmt"
)

// stmtSpec is a statement a write uses and its SQL.
type stmtSpec struct {
	stmt **sql.Stmt
	sql  string
}

// saveStatements are the statements of every poll's save. They are
// prepared once, on the writer's connection, when the database opens: a
// transaction that prepared its own spent more on parsing SQL than on
// some of the writes.
func saveStatements() []stmtSpec {
	specs := append((&saver{}).statements(), (&copies{}).statements()...)
	for _, q := range writeSQL {
		specs = append(specs, stmtSpec{sql: q})
	}
	return specs
}

// writeSQL are the other statements every poll or grouping runs, prepared
// with the saver's: a poll's state, its trimming, a grouping's updates.
var writeSQL = []string{saveFeedStateSQL, lastNewItemSQL, overLimitSQL,
	markGroupedSQL, setStorySQL, joinStorySQL, storyTagsSQL,
	mergeStorySQL, mergeFirstSQL, mergeStoryTagsSQL, dropStoryTagsSQL}

// stmt is the statement of query in tx: prepared when the database
// opened, or now.
func (db *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	var st *sql.Stmt
	err := db.prepareIn(ctx, tx, []stmtSpec{{&st, query}})
	return st, err
}

// prepareWrites prepares saveStatements on the writer's connection.
func (db *DB) prepareWrites(ctx context.Context) error {
	db.writes = map[string]*sql.Stmt{}
	for _, s := range saveStatements() {
		st, err := db.write.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", s.sql, err)
		}
		db.writes[s.sql] = st
	}
	return nil
}

// prepareIn sets each of specs to its statement in tx: the one prepared
// when the database opened (database/sql reuses it on the writer's one
// connection), or one prepared now. The statements end with tx.
func (db *DB) prepareIn(ctx context.Context, tx *sql.Tx, specs []stmtSpec) error {
	for _, s := range specs {
		if st, ok := db.writes[s.sql]; ok {
			*s.stmt = tx.StmtContext(ctx, st)
			continue
		}
		st, err := tx.PrepareContext(ctx, s.sql)
		if err != nil {
			return err
		}
		*s.stmt = st
	}
	return nil
}

// maxStmts bounds the prepared read queries kept; queries beyond it (IN
// lists of unusual lengths) are prepared each time.
const maxStmts = 256

// query runs a read query with a statement prepared once per query text:
// the output feeds' queries are few and run on every render.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil || st == nil {
		return db.read.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for a query of one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.read.QueryRowContext(ctx, query, args...), nil
	}
	return st.QueryRowContext(ctx, args...), nil
}

// readStmt is the read statement of query, prepared the first time; nil
// when maxStmts are kept already.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.stmts[query]; ok || len(db.stmts) >= maxStmts {
		return st, nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts == nil {
		db.stmts = map[string]*sql.Stmt{}
	}
	db.stmts[query] = st
	return st, nil
}
