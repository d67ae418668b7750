package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// busyLog counts log records that mention a locked database.
type busyLog struct {
	slog.Handler
	busy *atomic.Int64
}

func (h busyLog) Handle(ctx context.Context, r slog.Record) error {
	text := r.Message
	r.Attrs(func(a slog.Attr) bool {
		text += " " + a.Value.String()
		return true
	})
	if strings.Contains(text, "SQLITE_BUSY") || strings.Contains(text, "database is locked") {
		h.busy.Add(1)
	}
	return nil
}

func (h busyLog) Enabled(context.Context, slog.Level) bool { return true }
func (h busyLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h busyLog) WithGroup(string) slog.Handler            { return h }

// runLoad is the load-while-ingesting survival check: feedmux ingests a
// large farm that keeps growing while clients read the tag feeds for dur,
// each about ten times a second, half of them conditionally. Then the
// sources stop growing and every feed is polled once more.
// It fails on what is wrong, whatever the machine's speed: a failed
// request, a SQLITE_BUSY anywhere, a failed poll, an item the sources
// published that is not stored, or one stored twice. Latencies (p50, p99,
// per 10 s phase) are printed as figures for BENCHMARKS.md, never judged:
// the goal, p99 under 50 ms on 2 cores, depends on the machine.
func runLoad(dur time.Duration, clients int) error {
	const n, m = 1000, 50
	defer startLoadProfile()()
	f, err := newFarm(n, m)
	if err != nil {
		return err
	}
	defer f.close()
	dir, err := os.MkdirTemp("", "feedmux-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "load.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	var c loadCounts
	p, srv := newLoadDaemon(ctx, db, &c)
	feeds := make([]feedmux.Feed, n)
	for i := range feeds {
		feeds[i] = feedmux.Feed{URL: f.feedURL(i), Tags: []string{f.tag(i)}, Interval: 2 * time.Second}
	}
	p.SetFeeds(feeds)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		p.Run(ctx)
	}()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr().String()

	stopGrowing := growFarm(ctx, f)
	lat, failures := readTags(base, f.tags, clients, dur)
	cancel()
	<-ran // polls in flight finish before the final pass
	stopGrowing()
	printLoad(dur, clients, lat, len(failures), &c)
	lost, twice, err := finalPass(p, db, f, feeds, &c.pollErrors)
	if err != nil {
		return err
	}
	return c.verdict(failures, lost, twice)
}

// startLoadProfile starts a CPU profile into the file FEEDMUX_LOAD_PROFILE
// names, if any, and returns what stops it.
func startLoadProfile() (stop func()) {
	if path := os.Getenv("FEEDMUX_LOAD_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			return pprof.StopCPUProfile
		}
	}
	return func() {}
}

// loadCounts are what the load check counts during its run: log records
// of a locked database, polls, and failed polls.
type loadCounts struct {
	busy, polls, pollErrors atomic.Int64
}

// newLoadDaemon returns the poller and the server of the load check, on db,
// counting into c; polls that fail before ctx ends count as errors.
func newLoadDaemon(ctx context.Context, db *sqlite.DB, c *loadCounts) (*aggregator.Poller, *server.Server) {
	logger := slog.New(busyLog{busy: &c.busy})
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: time.Minute, UserAgent: "feedmux-load"}), logger)
	p.Concurrency, p.PerHost = 8, 8
	p.SetIntervals(time.Second, 0)
	p.Stories = aggregator.NewGrouper(aggregator.DefaultStoryConfig)
	srv := server.New(db, logger)
	srv.Configure(server.Config{MaxAge: server.DefaultMaxAge, RenderInterval: server.DefaultRenderInterval})
	p.OnChange = srv.Invalidate
	p.OnPoll = func(_ feedmux.Feed, _ aggregator.Result, err error, _ time.Duration) {
		c.polls.Add(1)
		if err != nil && ctx.Err() == nil {
			c.pollErrors.Add(1)
			log.Printf("poll error: %v", err)
		}
	}
	return p, srv
}

// growFarm has the farm's feeds grow until stop is called, which waits for the
// growth to end. After the cold ingest of 50,000 items, every feed is
// polled every 2 s and grows one item every 10 s, a tenth of the feeds
// each second (100 new items a second): ingest never rests.
func growFarm(ctx context.Context, f *farm) (stop func()) {
	growCtx, stopGrowing := context.WithCancel(ctx)
	grown := make(chan struct{})
	go func() {
		defer close(grown)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for group := 0; ; group = (group + 1) % 10 {
			select {
			case <-growCtx.Done():
				return
			case <-t.C:
				f.grow(group, 10)
			}
		}
	}()
	return func() {
		stopGrowing()
		<-grown
	}
}

// printLoad prints the figures of the load check's reading phase: lat, the
// latencies of the requests that succeeded (sorted here), and the counts.
func printLoad(dur time.Duration, clients int, lat []time.Duration, failed int, c *loadCounts) {
	slices.Sort(lat)
	p50, p99 := time.Duration(0), time.Duration(0)
	if len(lat) > 0 {
		p50, p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	fmt.Printf("load: %s, %d clients: %d requests (%.0f/s), p50 %.2f ms, p99 %.2f ms (goal: under 50 ms on 2 cores), %d failed; ingest: %d polls, %d poll errors, %d SQLITE_BUSY\n",
		dur, clients, len(lat), float64(len(lat))/dur.Seconds(), ms(p50), ms(p99), failed, c.polls.Load(), c.pollErrors.Load(), c.busy.Load())
}

// verdict is the load check's result: the first of what went wrong, or nil.
func (c *loadCounts) verdict(failures []string, lost, twice int) error {
	switch {
	case len(failures) > 0:
		return fmt.Errorf("%d requests failed, first: %s", len(failures), failures[0])
	case c.busy.Load() > 0:
		return fmt.Errorf("%d SQLITE_BUSY in the logs", c.busy.Load())
	case c.pollErrors.Load() > 0:
		return fmt.Errorf("%d polls failed", c.pollErrors.Load())
	case lost > 0 || twice > 0:
		return fmt.Errorf("%d items the sources published are not stored, %d stored more than once", lost, twice)
	}
	return nil
}

// finalPass polls every feed once more now that the sources have stopped
// growing, and compares what is stored with what the sources published:
// it returns the items missing and the items stored more than once.
func finalPass(p *aggregator.Poller, db feedmux.Store, f *farm, feeds []feedmux.Feed, pollErrors *atomic.Int64) (lost, twice int, err error) {
	ctx := context.Background()
	p.PollAll(ctx, feeds, func(i int, _ aggregator.Result, err error, _ time.Duration) {
		if err != nil {
			pollErrors.Add(1)
			log.Printf("final poll of %s: %v", feeds[i].URL, err)
		}
	})
	states, err := db.FeedStates(ctx)
	if err != nil {
		return 0, 0, err
	}
	stored := map[string]int{}
	for _, st := range states {
		stored[st.URL] = st.Items
	}
	published := 0
	for i, feed := range feeds {
		want := f.published(i)
		published += want
		switch got := stored[feed.URL]; {
		case got < want:
			lost += want - got
		case got > want:
			twice += got - want
		}
	}
	items, err := db.ItemCount(ctx)
	if err != nil {
		return 0, 0, err
	}
	fmt.Printf("final pass: %d items published, %d stored\n", published, items)
	return lost, twice, nil
}
