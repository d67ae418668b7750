package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAfter opens a database made by the migrations before the one whose
// name ends with suffix (whatever its number), holding what setup (SQL)
// put in it: a database of an older feedmux, opened by this one.
func openAfter(t *testing.T, suffix, setup string) *DB {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	i := slices.IndexFunc(names, func(n string) bool { return strings.HasSuffix(n, suffix) })
	if i < 0 {
		t.Fatalf("no migration *%s", suffix)
	}
	for _, name := range names[:i] {
		body, _ := migrations.ReadFile(name)
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := raw.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(i)+`; `+setup); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
