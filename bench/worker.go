package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// passProfile, when set, receives the CPU profile of one pass alone
// (-profile cold, warm or serve): profilePass names it.
var (
	passProfile *os.File
	profilePass string
)

// profiled runs pass, under the CPU profile when it is the pass asked for.
func profiled(name string, pass func() error) error {
	if passProfile == nil || name != profilePass {
		return pass()
	}
	if err := pprof.StartCPUProfile(passProfile); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return pass()
}

// profileOf is the -profile flag, handed on to the ingest worker.
var profileOf = "all"

// runWorker runs one measurement and prints its Result as JSON.
func runWorker(kind, farmURL string, n, m, concurrency, clients int, serveFor time.Duration, dbPath string) {
	f := &farm{n: n, m: m, tags: max(1, n/10), URL: farmURL}
	var r Result
	var err error
	switch kind {
	case "floor":
		r, err = floorRun(f, concurrency)
	case "storefloor":
		r, err = storeFloorRun(f, concurrency, dbPath)
	case "ingest":
		r, err = ingestRun(f, concurrency, clients, serveFor, dbPath)
	default:
		err = fmt.Errorf("unknown worker %q", kind)
	}
	if err != nil {
		log.Fatal(err)
	}
	r.Feeds, r.ItemsPerFeed = n, m
	json.NewEncoder(os.Stdout).Encode(r)
}

// pool runs do(i) for i in [0, n) with concurrency at a time.
func pool(n, concurrency int, do func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}

// floorRun fetches and parses every feed with gofeed, storing nothing: the
// least any aggregator must do.
func floorRun(f *farm, concurrency int) (Result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	var items atomic.Int64
	var failed atomic.Value
	cpu0 := cpuSeconds()
	start := time.Now()
	pool(f.n, concurrency, func(i int) {
		doc, err := fetchParse(client, f.feedURL(i))
		if err != nil {
			failed.Store(err)
			return
		}
		items.Add(int64(len(doc.Items)))
	})
	if err, ok := failed.Load().(error); ok {
		return Result{}, err
	}
	return Result{FloorSeconds: time.Since(start).Seconds(), FloorCPU: cpuSeconds() - cpu0, Items: int(items.Load()), PeakRSSMB: peakRSSMB()}, nil
}

// liveHeapMB is the Go heap still in use after a collection.
func liveHeapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// benchPoller is feedmux's poller on db, as the daemon sets it up, with
// concurrency polls in flight (all to the farm's one host).
func benchPoller(db feedmux.Store, concurrency int) (*aggregator.Poller, error) {
	quiet := slog.New(slog.DiscardHandler)
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: time.Minute, UserAgent: "feedmux-bench"}), quiet)
	p.Concurrency, p.PerHost = concurrency, concurrency
	tagger, err := aggregator.NewTagger(aggregator.Rules{})
	if err != nil {
		return nil, err
	}
	p.SetRules(tagger)
	p.Stories = aggregator.NewGrouper(aggregator.DefaultStoryConfig)
	return p, nil
}

// ingestPass polls every feed once, grouping beside the polls as the
// daemon does, and ends when every item is grouped. It returns the wall
// and CPU seconds it took.
func ingestPass(ctx context.Context, p *aggregator.Poller, feeds []feedmux.Feed) (seconds, cpu float64, err error) {
	var failed atomic.Value
	cpu0 := cpuSeconds()
	start := time.Now()
	grouping, stopGrouping := context.WithCancel(ctx)
	grouped := make(chan struct{})
	go func() { defer close(grouped); p.RunGrouping(grouping) }()
	p.PollAll(ctx, feeds, func(_ int, _ aggregator.Result, err error, _ time.Duration) {
		if err != nil {
			failed.Store(err)
		}
	})
	stopGrouping()
	<-grouped
	if _, err := p.GroupPending(ctx); err != nil {
		failed.Store(err)
	}
	seconds, cpu = time.Since(start).Seconds(), cpuSeconds()-cpu0
	if err, ok := failed.Load().(error); ok {
		return 0, 0, err
	}
	return seconds, cpu, nil
}

// ingestRun runs feedmux's poller and storage on a fresh database: a cold
// ingest, then a pass where everything answers 304, then a pass where
// nothing does (and nothing changed), then serving.
func ingestRun(f *farm, concurrency, clients int, serveFor time.Duration, dbPath string) (Result, error) {
	ctx := context.Background()
	db, err := openStore(ctx, dbPath)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	feeds := f.feeds()
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		return Result{}, err
	}
	p, err := benchPoller(db, concurrency)
	if err != nil {
		return Result{}, err
	}
	var r Result
	err = profiled("cold", func() (err error) {
		r.IngestSeconds, r.IngestCPU, err = ingestPass(ctx, p, feeds)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if r.Items, err = db.ItemCount(ctx); err != nil {
		return Result{}, err
	}
	r.LiveHeapMB = liveHeapMB()
	r.IngestItemsPerSec = float64(r.Items) / r.IngestSeconds
	r.PerFeedMillis = r.IngestSeconds * 1000 / float64(f.n)
	if r.NotModifiedSeconds, r.NotModifiedCPU, err = ingestPass(ctx, p, feeds); err != nil {
		return Result{}, err
	}
	r.CPUPer1000Feeds = r.NotModifiedCPU * 1000 / float64(f.n)
	// A source that sends no validators: every body again, nothing new.
	if resp, err := http.Get(f.URL + "/control/never-304"); err == nil {
		resp.Body.Close()
	}
	err = profiled("warm", func() (err error) {
		r.WarmSeconds, r.WarmCPU, err = ingestPass(ctx, p, feeds)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	r.PeakRSSMB = peakRSSMB()
	writeHeapProfile(os.Getenv("FEEDMUX_BENCH_HEAP"))
	if size, err := db.Size(); err == nil && r.Items > 0 {
		r.DBBytesPerItem = float64(size) / float64(r.Items)
	}
	err = profiled("serve", func() (err error) {
		r.Serving, err = serveRun(db, clients, serveFor)
		return err
	})
	return r, err
}

// writeHeapProfile writes the heap after a collection to path, if set.
func writeHeapProfile(path string) {
	if path == "" {
		return
	}
	if f, err := os.Create(path); err == nil {
		runtime.GC()
		pprof.WriteHeapProfile(f)
		f.Close()
	}
}

// cpuSeconds is the user and system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMB is this process's peak resident memory (VmHWM), in MB.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// openStore opens the ingest worker's database: PostgreSQL for a
// postgres:// URL, else a SQLite file.
func openStore(ctx context.Context, db string) (feedmux.Store, error) {
	if strings.HasPrefix(db, "postgres://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, db)
}
