package sqlite

import (
	"github.com/feedmux/feedmux"

	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestOpen_FillsSearch: a database made before the search index, with
// items in it, has them in the index once opened.
func TestOpen_FillsSearch(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	// The schema as it was before the migration that adds the index,
	// whatever its number.
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	i := slices.IndexFunc(names, func(n string) bool { return strings.HasSuffix(n, "_search.sql") })
	if i < 0 {
		t.Fatal("no search migration")
	}
	for _, name := range names[:i] {
		body, _ := migrations.ReadFile(name)
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err = raw.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(i)+`;
		INSERT INTO feeds (id, url) VALUES (1, 'https://a.example/rss');
		INSERT INTO items (feed_id, key, title, content, article, first_seen, sort_time, hash) VALUES
			(1, 'a', 'Quarry flooded', '<p>Rain <b>again</b></p>', '', 1, 1, x'00'),
			(1, 'b', 'Harbour news', '<p>Nothing</p>', '<p>The <i>quarry</i> reopens</p>', 2, 2, x'00'),
			(1, 'c', 'Other', '<a href="https://quarry.example/">x</a>', '', 3, 3, x'00')`)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, _ := feedmux.ParseSearch("quarry")
	page, err := db.ItemPage(ctx, ItemFilter{Search: &s})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range page.Items {
		got = append(got, it.Key)
	}
	if !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("items stored before the index, searched: %q, want [b a] (c only links to quarry.example)", got)
	}
	var left int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = ?`, searchFillKey).Scan(&left); err != nil || left != 0 {
		t.Errorf("fill marker left: %d, %v", left, err)
	}
}
