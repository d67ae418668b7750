package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
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
	busy, polls *atomic.Int64
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
	if path := os.Getenv("FEEDMUX_LOAD_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
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
	var busy, polls, pollErrors atomic.Int64
	logger := slog.New(busyLog{busy: &busy, polls: &polls})
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: time.Minute, UserAgent: "feedmux-load"}), logger)
	p.Concurrency, p.PerHost = 8, 8
	p.SetIntervals(time.Second, 0)
	p.Stories = aggregator.NewGrouper(aggregator.DefaultStoryConfig)
	srv := server.New(db, logger)
	srv.Configure(server.Config{MaxAge: server.DefaultMaxAge, RenderInterval: server.DefaultRenderInterval})
	p.OnChange = srv.Invalidate
	p.OnPoll = func(_ feedmux.Feed, _ aggregator.Result, err error, _ time.Duration) {
		polls.Add(1)
		if err != nil && ctx.Err() == nil {
			pollErrors.Add(1)
			log.Printf("poll error: %v", err)
		}
	}
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

	// After the cold ingest of 50,000 items, every feed is polled every
	// 2 s and grows one item every 10 s, a tenth of the feeds each second
	// (100 new items a second): ingest never rests.
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

	lat, failures := readTags(base, f.tags, clients, dur)
	cancel()
	<-ran // polls in flight finish before the final pass
	stopGrowing()
	<-grown
	slices.Sort(lat)
	p50, p99 := time.Duration(0), time.Duration(0)
	if len(lat) > 0 {
		p50, p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	fmt.Printf("load: %s, %d clients: %d requests (%.0f/s), p50 %.2f ms, p99 %.2f ms (goal: under 50 ms on 2 cores), %d failed; ingest: %d polls, %d poll errors, %d SQLITE_BUSY\n",
		dur, clients, len(lat), float64(len(lat))/dur.Seconds(), ms(p50), ms(p99), len(failures), polls.Load(), pollErrors.Load(), busy.Load())
	lost, twice, err := finalPass(p, db, f, feeds, &pollErrors)
	if err != nil {
		return err
	}
	switch {
	case len(failures) > 0:
		return fmt.Errorf("%d requests failed, first: %s", len(failures), failures[0])
	case busy.Load() > 0:
		return fmt.Errorf("%d SQLITE_BUSY in the logs", busy.Load())
	case pollErrors.Load() > 0:
		return fmt.Errorf("%d polls failed", pollErrors.Load())
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

// readTags has clients readers ask for the tag feeds t0 … t{tags-1} at
// base for dur, each about ten times a second, half of them
// conditionally. It prints the latencies of each 10 s and returns them all,
// and the requests that failed.
func readTags(base string, tags, clients int, dur time.Duration) (lat []time.Duration, failures []string) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		finish  = time.Now().Add(dur)
		started = time.Now()
		phases  = map[int][]time.Duration{} // by 10 s of the run
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var mine []time.Duration
			etags := map[string]string{}
			// Each reader asks every 100 ms or so, as a busy reader farm
			// would: latency is measured under a load, not at saturation.
			tick := time.NewTicker(time.Duration(80+rng.IntN(40)) * time.Millisecond)
			defer tick.Stop()
			for time.Now().Before(finish) {
				<-tick.C
				path := fmt.Sprintf("/tags/t%d.%s", rng.IntN(tags), [...]string{"atom", "rss", "json"}[rng.IntN(3)])
				req, _ := http.NewRequest("GET", base+path, nil)
				if e := etags[path]; e != "" && rng.IntN(2) == 0 {
					req.Header.Set("If-None-Match", e) // half the readers poll conditionally
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				discard(resp.Body)
				resp.Body.Close()
				// A tag not ingested yet is a 404 until its first items land.
				if resp.StatusCode != 200 && resp.StatusCode != 304 && resp.StatusCode != 404 {
					mu.Lock()
					failures = append(failures, path+": "+resp.Status)
					mu.Unlock()
					continue
				}
				etags[path] = resp.Header.Get("ETag")
				took := time.Since(t0)
				mine = append(mine, took)
				mu.Lock()
				phase := int(time.Since(started) / (10 * time.Second))
				phases[phase] = append(phases[phase], took)
				mu.Unlock()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The latencies of each 10 s: does the cold ingest or the steady
	// growth make the tail?
	for k := 0; k < len(phases); k++ {
		if l := phases[k]; len(l) > 0 {
			slices.Sort(l)
			fmt.Printf("phase %d (%d-%d s): %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
				k, 10*k, 10*k+10, len(l), ms(l[len(l)/2]), ms(l[len(l)*99/100]), ms(l[len(l)-1]))
		}
	}
	return lat, failures
}
