package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// profileCold, when set, receives the CPU profile of the cold ingest alone
// (-profile cold).
var profileCold *os.File

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
		resp, err := client.Get(f.feedURL(i))
		if err != nil {
			failed.Store(err)
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			failed.Store(err)
			return
		}
		doc, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			failed.Store(err)
			return
		}
		items.Add(int64(len(doc.Items)))
	})
	if err, ok := failed.Load().(error); ok {
		return Result{}, err
	}
	return Result{FloorSeconds: time.Since(start).Seconds(), FloorCPU: cpuSeconds() - cpu0, Items: int(items.Load())}, nil
}

// liveHeapMB is the Go heap still in use after a collection.
func liveHeapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

func passSeconds(pass func() (time.Duration, float64, error)) (float64, float64, error) {
	took, cpu, err := pass()
	return took.Seconds(), cpu, err
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
	feeds := make([]feedmux.Feed, f.n)
	for i := range feeds {
		feeds[i] = feedmux.Feed{URL: f.feedURL(i), Tags: []string{f.tag(i)}, Interval: time.Hour}
	}
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		return Result{}, err
	}
	quiet := slog.New(slog.DiscardHandler)
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: time.Minute, UserAgent: "feedmux-bench"}), quiet)
	p.Concurrency, p.PerHost = concurrency, concurrency // the farm is one host
	tagger, err := aggregator.NewTagger(aggregator.Rules{})
	if err != nil {
		return Result{}, err
	}
	p.SetRules(tagger)
	p.Stories = aggregator.NewGrouper(aggregator.DefaultStoryConfig)

	pass := func() (time.Duration, float64, error) {
		var failed atomic.Value
		cpu0 := cpuSeconds()
		start := time.Now()
		// Grouping runs beside the polls, as in the daemon, and the pass
		// ends when every item is grouped.
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
		took, cpu := time.Since(start), cpuSeconds()-cpu0
		if err, ok := failed.Load().(error); ok {
			return 0, 0, err
		}
		return took, cpu, nil
	}
	var r Result
	if profileCold != nil {
		pprof.StartCPUProfile(profileCold)
	}
	cold, coldCPU, err := pass()
	if profileCold != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return Result{}, err
	}
	r.IngestCPU = coldCPU
	if r.Items, err = db.ItemCount(ctx); err != nil {
		return Result{}, err
	}
	r.IngestSeconds = cold.Seconds()
	r.LiveHeapMB = liveHeapMB()
	r.IngestItemsPerSec = float64(r.Items) / cold.Seconds()
	r.PerFeedMillis = cold.Seconds() * 1000 / float64(f.n)
	warm, cpu, err := pass()
	if err != nil {
		return Result{}, err
	}
	r.NotModifiedSeconds, r.NotModifiedCPU = warm.Seconds(), cpu
	r.CPUPer1000Feeds = cpu * 1000 / float64(f.n)
	// A source that sends no validators: every body again, nothing new.
	if resp, err := http.Get(f.URL + "/control/never-304"); err == nil {
		resp.Body.Close()
	}
	if r.WarmSeconds, r.WarmCPU, err = passSeconds(pass); err != nil {
		return Result{}, err
	}
	r.PeakRSSMB = peakRSSMB()
	if path := os.Getenv("FEEDMUX_BENCH_HEAP"); path != "" {
		if f, err := os.Create(path); err == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if size, err := db.Size(); err == nil && r.Items > 0 {
		r.DBBytesPerItem = float64(size) / float64(r.Items)
	}
	r.Serving, err = serveRun(db, clients, serveFor)
	return r, err
}

// serveRun serves the database and measures a cached tag feed with
// concurrent clients: a 200 and a 304, each with and without gzip.
func serveRun(db feedmux.Store, clients int, dur time.Duration) ([]Serving, error) {
	srv := server.New(db, slog.New(slog.DiscardHandler))
	srv.Configure(server.Config{MaxAge: server.DefaultMaxAge, RenderInterval: server.DefaultRenderInterval})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	url := "http://" + srv.Addr().String() + "/tags/t0.atom"
	out, err := serveCases(url, "", clients, dur)
	if err != nil {
		return nil, err
	}
	// The yardstick, in the same process tree: the same bytes from a bare
	// Go server.
	bare, err := newBareServer(url)
	if err != nil {
		return nil, err
	}
	defer bare.close()
	yard, err := serveCases(bare.URL, "bare Go server: ", clients, dur)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if yard[i].RPS > 0 {
			out[i].ToBare = out[i].RPS / yard[i].RPS
		}
	}
	return append(out, yard...), nil
}

// serveCases measures url: a 200 and a 304, each with and without gzip.
func serveCases(url, prefix string, clients int, dur time.Duration) ([]Serving, error) {
	var out []Serving
	for _, c := range []struct {
		name string
		gzip bool
		cond bool
	}{{"200", false, false}, {"200 gzip", true, false}, {"304", false, true}, {"304 gzip", true, true}} {
		header := http.Header{}
		if c.gzip {
			header.Set("Accept-Encoding", "gzip")
		}
		first, size, err := get(url, header)
		if err != nil {
			return nil, err
		}
		want := http.StatusOK
		if c.cond {
			header.Set("If-None-Match", first.Get("ETag"))
			want = http.StatusNotModified
		}
		s := hammer(url, header, want, clients, dur)
		s.Case, s.BodyBytes = prefix+c.name, size
		if c.cond {
			s.BodyBytes = 0
		}
		out = append(out, s)
	}
	return out, nil
}

func get(url string, h http.Header) (http.Header, int, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = h.Clone()
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	n := discard(resp.Body)
	if resp.StatusCode != 200 {
		return nil, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Header, n, nil
}

// hammer sends requests from clients goroutines for dur and reports the
// rate and latency percentiles of answers with status want.
func hammer(url string, h http.Header, want, clients int, dur time.Duration) Serving {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		errs   int
		wg     sync.WaitGroup
		start  = time.Now()
		finish = start.Add(dur)
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			req, _ := http.NewRequest("GET", url, nil)
			req.Header = h.Clone()
			for time.Now().Before(finish) {
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				discard(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	s := Serving{Requests: len(lat), Errors: errs, Clients: clients, RPS: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		s.P50Millis = ms(lat[len(lat)/2])
		s.P99Millis = ms(lat[len(lat)*99/100])
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
