package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// peerDeadline bounds a peer's cold ingest: past it the run fails.
const peerDeadline = 10 * time.Minute

// measurePeer runs the floor and feedmux's cold ingest (on SQLite, in
// child processes as measureSize does), then Miniflux's cold ingest of a
// farm of the same size, and returns the Markdown table of the three.
func measurePeer(o options) (string, error) {
	if o.peer != "miniflux" {
		return "", fmt.Errorf("-peer %q: the only peer is miniflux", o.peer)
	}
	log.Printf("building Miniflux %s (once) ...", minifluxVersion)
	bin, err := buildMiniflux()
	if err != nil {
		return "", err
	}
	log.Printf("measuring the floor and feedmux, %d feeds x %d items ...", o.feeds, o.items)
	sqliteDB := func(dir string) (string, error) { return filepath.Join(dir, "bench.db"), nil }
	own, err := measureSize(o.feeds, o.items, o.headlines, o.concurrency, o.clients, o.serveFor, "", sqliteDB)
	if err != nil {
		return "", err
	}
	log.Printf("measuring Miniflux %s, %d feeds x %d items ...", minifluxVersion, o.feeds, o.items)
	cluster, err := pgtest.Start()
	if err != nil {
		return "", fmt.Errorf("PostgreSQL for Miniflux: %w", err)
	}
	defer cluster.Stop()
	dbURL, err := cluster.CreateDatabase(context.Background(), "miniflux")
	if err != nil {
		return "", fmt.Errorf("PostgreSQL for Miniflux: %w", err)
	}
	peer, err := runMiniflux(bin, dbURL, o.feeds, o.items, o.headlines, splitEnv(o.peerEnv))
	if err != nil {
		return "", err
	}
	return peerMarkdown(own, peer, o.concurrency), nil
}

// splitEnv splits -peer-env's comma-separated KEY=VALUE list.
func splitEnv(s string) []string {
	var env []string
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			env = append(env, kv)
		}
	}
	return env
}

// runMiniflux serves an n × m farm, starts Miniflux on dbURL, gives it
// every feed by an OPML import (not timed), and times its cold ingest:
// from its refresh-all request until every feed's refresh is recorded,
// the end being the creation time of the last entry stored.
func runMiniflux(bin, dbURL string, n, m, headlines int, extra []string) (PeerResult, error) {
	ctx := context.Background()
	postmaster, err := postmasterPID(dbURL)
	if err != nil {
		return PeerResult{}, err
	}
	f, err := newFarm(n, m)
	if err != nil {
		return PeerResult{}, err
	}
	defer f.close()
	f.headlines = headlines
	for i := range n {
		f.doc(i)
	}
	mf, err := startMiniflux(bin, dbURL, extra)
	if err != nil {
		return PeerResult{}, err
	}
	defer mf.stop()
	if err := mf.login(); err != nil {
		return PeerResult{}, err
	}
	r := PeerResult{Name: "Miniflux " + minifluxVersion, Feeds: n, ItemsPerFeed: m,
		Workers: setting(extra, "WORKER_POOL_SIZE", "16 (default)"), MinConns: setting(extra, "DATABASE_MIN_CONNS", "1 (default)")}
	start := time.Now()
	if err := mf.call("POST", "/v1/import", "application/xml", farmOPML(f, f.URL+"/"), http.StatusCreated, nil); err != nil {
		return PeerResult{}, err
	}
	r.ImportSeconds = time.Since(start).Seconds()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return PeerResult{}, fmt.Errorf("connecting to Miniflux's database: %w", err)
	}
	defer conn.Close(ctx)
	if err := timeIngest(ctx, mf, conn, postmaster, f, &r); err != nil {
		return PeerResult{}, err
	}
	r.PeakRSSMB = float64(statusKB(mf.cmd.Process.Pid, "status", "VmHWM")) / 1024
	r.Warnings = mf.stderr.warns
	r.APITotal, err = mf.entriesTotal()
	return r, err
}

// timeIngest asks Miniflux to refresh every feed and waits until every
// feed's refresh is recorded, measuring wall time, the CPU of Miniflux
// and of PostgreSQL's processes, and PostgreSQL's peak memory.
func timeIngest(ctx context.Context, mf *miniflux, conn *pgx.Conn, postmaster int, f *farm, r *PeerResult) error {
	mfPID := mf.cmd.Process.Pid
	mf0, err := readProcStat(mfPID)
	if err != nil {
		return fmt.Errorf("reading Miniflux's CPU: %w", err)
	}
	db0, err := treeCPU(postmaster)
	if err != nil {
		return fmt.Errorf("reading PostgreSQL's CPU: %w", err)
	}
	feedGets0, otherGets0 := f.feedGets.Load(), f.otherGets.Load()
	sessions0, err := dbSessions(ctx, conn)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := mf.call("PUT", "/v1/feeds/refresh", "", nil, http.StatusNoContent, nil); err != nil {
		return err
	}
	if r.FinishedSeconds, err = waitFinished(ctx, mf, conn, postmaster, f.n, start, &r.DBPeakPSSMB); err != nil {
		return err
	}
	mf1, err := readProcStat(mfPID)
	if err != nil {
		return fmt.Errorf("reading Miniflux's CPU: %w", err)
	}
	db1, err := treeCPU(postmaster)
	if err != nil {
		return fmt.Errorf("reading PostgreSQL's CPU: %w", err)
	}
	r.CPU, r.DBCPU = mf1.cpu()-mf0.cpu(), db1-db0
	r.FeedGets, r.OtherGets = f.feedGets.Load()-feedGets0, f.otherGets.Load()-otherGets0
	sessions1, err := dbSessions(ctx, conn)
	if err != nil {
		return err
	}
	r.DBSessions = sessions1 - sessions0
	var last *time.Time
	err = conn.QueryRow(ctx, `SELECT count(*), max(created_at) FROM entries`).Scan(&r.Entries, &last)
	if err != nil {
		return fmt.Errorf("counting Miniflux's entries: %w", err)
	}
	if last != nil {
		r.Seconds = last.Sub(start).Seconds()
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM feeds WHERE parsing_error_count > 0`).Scan(&r.FeedErrors)
	if err != nil {
		return fmt.Errorf("counting Miniflux's feed errors: %w", err)
	}
	return nil
}

// waitFinished polls Miniflux's database every 100 ms until all n feeds
// were checked since start (Miniflux records a feed's check when its
// refresh ends, entries stored, or fails), and returns the seconds it
// took, at the polling's resolution. It keeps the peak of PostgreSQL's
// memory in peakPSS. It fails past peerDeadline or when Miniflux exits.
func waitFinished(ctx context.Context, mf *miniflux, conn *pgx.Conn, postmaster, n int, start time.Time, peakPSS *float64) (float64, error) {
	for tick := 0; ; tick++ {
		var checked int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM feeds WHERE checked_at >= $1`, start).Scan(&checked); err != nil {
			return 0, fmt.Errorf("polling Miniflux's database: %w", err)
		}
		if tick%5 == 0 || checked == n {
			*peakPSS = max(*peakPSS, treePSSMB(postmaster))
		}
		if checked == n {
			return time.Since(start).Seconds(), nil
		}
		if time.Since(start) > peerDeadline {
			return 0, fmt.Errorf("Miniflux: %d of %d feeds refreshed after %v; its output ends:\n%s", checked, n, peerDeadline, mf.stderr)
		}
		select {
		case err := <-mf.exited:
			mf.exited <- err // for stop
			return 0, fmt.Errorf("Miniflux exited during the ingest (%v); its output ends:\n%s", err, mf.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dbSessions is the number of sessions ever opened on the connection's
// database (pg_stat_database, counted as each one starts).
func dbSessions(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var n int64
	if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return 0, fmt.Errorf("reading PostgreSQL's sessions: %w", err)
	}
	err := conn.QueryRow(ctx, `SELECT sessions FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reading PostgreSQL's sessions: %w", err)
	}
	return n, nil
}

// postmasterPID is the PID of the PostgreSQL server behind a pgtest URL:
// the first line of postmaster.pid in the data directory beside its
// socket (the URL's host).
func postmasterPID(dbURL string) (int, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(filepath.Join(u.Query().Get("host"), "data", "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("finding PostgreSQL's server process: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil {
		return 0, fmt.Errorf("finding PostgreSQL's server process: postmaster.pid: %w", err)
	}
	return pid, nil
}

// setting is the value of Miniflux's setting key as the harness runs it:
// the last key=value in extra, else def.
func setting(extra []string, key, def string) string {
	for _, kv := range extra {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			def = v
		}
	}
	return def
}
