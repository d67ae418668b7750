package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
	"github.com/feedmux/feedmux/storage/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = storetest.T0

// mustOpen opens the database at url, closed at cleanup, its clock at t0.
func mustOpen(tb testing.TB, url string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(tb.Context(), url)
	if err != nil {
		tb.Fatal(err)
	}
	db.Now = func() time.Time { return t0 }
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// TestDB runs the store's behaviour tests (storage/storetest) on
// PostgreSQL, a database each.
func TestDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (feedmux.Store, *feedmux.Retention) {
		db := mustOpen(t, pgtest.URL(t))
		return db, &db.Retention
	})
}

// TestOpen_Concurrent: processes that open one new database at once
// migrate it once (the others wait on the advisory lock), and reopening
// it is a no-op.
func TestOpen_Concurrent(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	dbs := make([]*postgres.DB, 4)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		dbs[i].Close()
	}
	db := mustOpen(t, url)
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/"}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Size(); err != nil || n <= 0 {
		t.Errorf("Size = %d, %v", n, err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Error(err)
	}
}

// TestOpen_BadURL: an invalid URL is an error that does not repeat it (it
// may hold a password).
func TestOpen_BadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:secret@host:notaport/db")
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("Open of a bad URL: %v, want an error", err)
	}
	if s := err.Error(); strings.Contains(s, "secret") {
		t.Errorf("the error repeats the password: %s", s)
	}
}

// TestOpen_KeyValue: Open takes libpq's key=value form too, with the
// directory of the server's socket as host.
func TestOpen_KeyValue(t *testing.T) {
	t.Parallel()
	cfg, err := pgconn.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=disable",
		cfg.Host, cfg.Port, cfg.Database, cfg.User))
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestOpen_WithoutUnaccent: a user who may create tables but not the
// unaccent extension gets a database whose search does not fold accents.
func TestOpen_WithoutUnaccent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	role := "plain_" + cfg.Database
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// Roles are the cluster's: named after the database, which is the test's.
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN`, `GRANT CREATE ON SCHEMA public TO ` + role} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The role outlives the database; the cluster is the tests' own.
	db := mustOpen(t, strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1))
	it := feedmux.Item{Key: "a", Title: "Tehrān in the news", Published: t0}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/rss"}, []feedmux.Item{it}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"tehrān": 1, "tehran": 0, "news": 1} {
		s, err := feedmux.ParseSearch(q)
		if err != nil {
			t.Fatal(err)
		}
		if items, err := db.Items(ctx, feedmux.ItemFilter{Search: &s}); err != nil || len(items) != want {
			t.Errorf("search %q: %d items (%v), want %d", q, len(items), err, want)
		}
	}
}
