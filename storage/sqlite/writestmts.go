package sqlite

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
