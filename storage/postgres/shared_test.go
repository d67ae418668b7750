package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// TestDB_Changes: a change one process announces reaches another's
// watcher with its tags, not its own; a change counted without a
// notification (one lost) makes the watcher say "everything".
func TestDB_Changes(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	a.Instance, b.Instance = "a", "b"
	seen := make(chan []string, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); b.WatchChanges(ctx, func(tags []string) { seen <- tags }) }()
	t.Cleanup(func() { cancel(); <-done })
	next := func() []string {
		t.Helper()
		select {
		case tags := <-seen:
			return tags
		case <-time.After(time.Minute): // only stops a hung test
			t.Fatal("the watcher heard nothing")
			return nil
		}
	}
	// The watcher listens once its connection is up: announce until heard.
	deadline := time.Now().Add(time.Minute) // only stops a hung test
	for heard := false; !heard; {
		if time.Now().After(deadline) {
			t.Fatal("the watcher never heard an announcement")
		}
		if err := a.NotifyChange(t.Context(), []string{"gaza"}); err != nil {
			t.Fatal(err)
		}
		select {
		case tags := <-seen:
			if !slices.Equal(tags, []string{"gaza"}) {
				t.Fatalf("heard %q, want [gaza]", tags)
			}
			heard = true
		case <-time.After(100 * time.Millisecond): // not listening yet: announce again
		}
	}
	for len(seen) > 0 { // the announcements before it listened, heard late
		<-seen
	}
	if err := b.NotifyChange(t.Context(), []string{"own"}); err != nil {
		t.Fatal(err)
	}
	if err := a.NotifyChange(t.Context(), []string{"iran"}); err != nil {
		t.Fatal(err)
	}
	if tags := next(); !slices.Equal(tags, []string{"iran"}) {
		t.Errorf("heard %q, want [iran] (a process's own changes are not its watcher's)", tags)
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE changes SET n = n + 1`); err != nil { // counted, never announced
		t.Fatal(err)
	}
	if tags := next(); tags != nil {
		t.Errorf("after a lost notification: heard %q, want nil (drop everything)", tags)
	}
}

// TestDB_Lead: one process at a time leads a role; when the leader's
// context ends, another takes over.
func TestDB_Lead(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	var _ feedmux.Elector = a
	ctxA, cancelA := context.WithCancel(t.Context())
	leadA, err := a.Lead(ctxA, "grouping")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan context.Context, 1)
	go func() {
		lead, err := b.Lead(t.Context(), "grouping")
		if err != nil {
			t.Error(err)
		}
		got <- lead
	}()
	select {
	case <-got:
		t.Fatal("two processes lead at once")
	case <-time.After(3 * time.Second): // b asks every 2 s; a slow machine can only make this check weaker, never fail it
	}
	cancelA()
	<-leadA.Done()
	select {
	case lead := <-got:
		if lead == nil || lead.Err() != nil {
			t.Fatalf("b's lead: %v", lead)
		}
	case <-time.After(time.Minute): // only stops a hung test
		t.Fatal("b never took over")
	}
}

// TestDB_Claims: a due feed is claimed by one process; the other is told
// when to ask again; the per-host limit counts both processes' claims;
// saving the poll, or releasing a stopping process's claims, frees it.
func TestDB_Claims(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	feeds := []feedmux.Feed{{URL: "https://one.example/a"}, {URL: "https://one.example/b"}}
	if err := a.SyncFeeds(t.Context(), feeds); err != nil {
		t.Fatal(err)
	}
	claim := func(db interface {
		ClaimFeed(context.Context, feedmux.FeedClaim) (bool, time.Time, error)
	}, feed, instance string, perHost int) (bool, time.Time) {
		t.Helper()
		ok, next, err := db.ClaimFeed(t.Context(), feedmux.FeedClaim{URL: feed, Host: "one.example", Instance: instance,
			Now: t0, Lease: time.Minute, PerHost: perHost})
		if err != nil {
			t.Fatal(err)
		}
		return ok, next
	}
	if ok, _ := claim(a, feeds[0].URL, "a", 1); !ok {
		t.Fatal("a could not claim a due feed")
	}
	if ok, next := claim(b, feeds[0].URL, "b", 1); ok || !next.After(t0) {
		t.Errorf("b claimed a's feed (%v), or was told to ask again at %v", ok, next)
	}
	if ok, _ := claim(b, feeds[1].URL, "b", 1); ok {
		t.Errorf("b claimed a second feed of the host with per_host 1")
	}
	if ok, _ := claim(b, feeds[1].URL, "b", 2); !ok {
		t.Errorf("b could not claim a second feed of the host with per_host 2")
	}
	if err := a.ReleaseClaims(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := claim(b, feeds[0].URL, "c", 1); ok {
		t.Errorf("c claimed a feed of the host while b holds one, with per_host 1")
	}
	if ok, _ := claim(b, feeds[0].URL, "b", 2); !ok {
		t.Errorf("after a released its claims, b could not claim its feed")
	}
}
