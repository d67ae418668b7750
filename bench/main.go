// Command bench measures feedmux against a loopback farm of generated
// feeds: cold ingest against the fetch-and-parse floor, a pass where
// everything answers 304, peak memory, database size, and serving
// throughput and latency of a cached per-tag feed. It also runs the
// load-while-ingesting survival check (-load).
//
//	go run ./bench                      # 500 feeds x 50 items
//	go run ./bench -matrix              # 50x50, 500x50, 2000x50, 10000x20
//	go run ./bench -load 60s            # readers during a heavy ingest; exit 1 on a failure
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// Result is what one size measured; the JSON output is a list of them.
type Result struct {
	Feeds, ItemsPerFeed int
	Items               int     // stored by the cold ingest
	FloorSeconds        float64 // fetch + gofeed parse only
	IngestSeconds       float64 // fetch, parse, normalize, sanitize, tag, store, group
	IngestItemsPerSec   float64
	RatioToFloor        float64
	NotModifiedSeconds  float64 // the second pass, everything 304
	NotModifiedCPU      float64 // CPU seconds of that pass
	WarmSeconds         float64 // the third pass: no 304, every body downloaded and parsed again, nothing new
	WarmCPU             float64 // CPU seconds of that pass
	WarmRatioToFloor    float64
	IngestCPU           float64 // CPU seconds of the cold ingest
	FloorCPU            float64 // CPU seconds of the floor
	CPUPer1000Feeds     float64
	PeakRSSMB           float64 // VmHWM of the ingesting process
	LiveHeapMB          float64 // the Go heap in use after the cold ingest, collected
	DBBytesPerItem      float64
	PerFeedMillis       float64 // cold ingest time per feed
	Serving             []Serving
}

// Serving is one serving measurement.
type Serving struct {
	Case      string // "200", "200 gzip", "304", "304 gzip"
	Requests  int
	Errors    int
	RPS       float64
	P50Millis float64
	P99Millis float64
	Clients   int
	BodyBytes int
	ToBare    float64 // requests per second against the bare Go server's, same case
}

func main() {
	var (
		feeds       = flag.Int("feeds", 500, "number of feeds in the farm")
		items       = flag.Int("items", 50, "items per feed")
		matrix      = flag.Bool("matrix", false, "run 50x50, 500x50, 2000x50 and 10000x20")
		concurrency = flag.Int("concurrency", 8, "polls in flight")
		clients     = flag.Int("clients", 64, "concurrent HTTP clients for the serving measurement")
		serveFor    = flag.Duration("serve", 3*time.Second, "duration of each serving measurement")
		jsonOut     = flag.String("json", "", "also write the results as JSON to this file")
		load        = flag.Duration("load", 0, "run the load-while-ingesting check for this long instead")
		worker      = flag.String("worker", "", "internal: run one measurement in this process (floor or ingest)")
		farmURL     = flag.String("farm", "", "internal: the farm's URL")
		dbPath      = flag.String("db", "", "internal: the database of the ingest worker")
		cpuProfile  = flag.String("cpuprofile", "", "write the ingest worker's CPU profile to this file")
		profileFlag = flag.String("profile", "all", "what -cpuprofile covers: all (the ingest worker's whole run), cold (its cold ingest only) or warm (its pass where nothing answers 304)")
		headlines   = flag.Int("headlines", 0, "when set, every item of the farm has one of this many headlines, a number in each (a syndicated wire story)")
		pg          = flag.Bool("pg", false, "measure feedmux on PostgreSQL (a private cluster: needs PostgreSQL's server binaries) instead of SQLite")
		instances   = flag.Int("instances", 0, "measure a cold ingest by one process and by this many processes together on one PostgreSQL database (feeds per second in all) instead")
		instance    = flag.String("instance", "", "internal: the name of a shared worker")
	)
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: go run ./bench [flags]\n\nMeasures feedmux against a loopback farm of generated feeds and prints a Markdown table.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(0)
	switch {
	case *worker == "shared":
		f := &farm{n: *feeds, m: *items, tags: max(1, *feeds/10), URL: *farmURL}
		r, err := sharedWorker(f, *concurrency, *dbPath, *instance)
		if err != nil {
			log.Fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return
	case *instances > 0:
		table, err := measureShared(*feeds, *items, *instances, *concurrency)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(table)
		return
	case *worker != "":
		if *cpuProfile != "" && *worker == "ingest" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				log.Fatal(err)
			}
			if *profileFlag == "cold" || *profileFlag == "warm" {
				passProfile, profilePass = f, *profileFlag
			} else {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		runWorker(*worker, *farmURL, *feeds, *items, *concurrency, *clients, *serveFor, *dbPath)
		return
	case *load > 0:
		if err := runLoad(*load, *clients); err != nil {
			log.Fatalf("load check failed: %v", err)
		}
		return
	}
	newDB := func(dir string) (string, error) { return filepath.Join(dir, "bench.db"), nil }
	stop := func() {}
	if *pg {
		cluster, err := pgtest.Start()
		if err != nil {
			log.Fatalf("PostgreSQL: %v", err)
		}
		stop = func() { cluster.Stop() }
		defer stop()
		seq := 0
		newDB = func(string) (string, error) {
			seq++
			return cluster.CreateDatabase(context.Background(), "bench"+strconv.Itoa(seq))
		}
	}
	sizes := [][2]int{{*feeds, *items}}
	if *matrix {
		sizes = [][2]int{{50, 50}, {500, 50}, {2000, 50}, {10000, 20}}
	}
	var results []Result
	for _, s := range sizes {
		log.Printf("measuring %d feeds x %d items ...", s[0], s[1])
		profileOf = *profileFlag
		r, err := measureSize(s[0], s[1], *headlines, *concurrency, *clients, *serveFor, *cpuProfile, newDB)
		if err != nil {
			stop() // log.Fatal skips the deferred one
			log.Fatal(err)
		}
		results = append(results, r)
	}
	fmt.Print(markdown(results, *concurrency, *clients))
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// measureSize serves a farm and runs the floor and the ingest, each in a
// process of its own so that its peak memory is its own.
func measureSize(n, m, headlines, concurrency, clients int, serveFor time.Duration, profile string, newDB func(dir string) (string, error)) (Result, error) {
	f, err := newFarm(n, m)
	if err == nil {
		f.headlines = headlines
	}
	if err != nil {
		return Result{}, err
	}
	defer f.close()
	// Render every document once, so the farm's own work is not timed.
	for i := range n {
		f.doc(i)
	}
	dir, err := os.MkdirTemp("", "feedmux-bench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	var floor, ingest Result
	args := []string{"-cpuprofile", profile, "-profile", profileOf, "-farm", f.URL, "-feeds", strconv.Itoa(n), "-items", strconv.Itoa(m),
		"-concurrency", strconv.Itoa(concurrency), "-clients", strconv.Itoa(clients), "-serve", serveFor.String()}
	if err := runChild(append([]string{"-worker", "floor"}, args...), &floor); err != nil {
		return Result{}, fmt.Errorf("floor: %w", err)
	}
	db, err := newDB(dir)
	if err != nil {
		return Result{}, err
	}
	if err := runChild(append([]string{"-worker", "ingest", "-db", db}, args...), &ingest); err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	ingest.FloorSeconds, ingest.FloorCPU = floor.FloorSeconds, floor.FloorCPU
	ingest.RatioToFloor = ingest.IngestSeconds / floor.FloorSeconds
	ingest.WarmRatioToFloor = ingest.WarmSeconds / floor.FloorSeconds
	return ingest, nil
}

func runChild(args []string, into *Result) error { return runChildInto(args, into) }

// runChildInto runs this program with args and decodes its JSON output.
func runChildInto(args []string, into any) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, args...)
	if os.Getenv("GOMEMLIMIT") == "" {
		// The daemon's default soft limit (cmd/feedmux memoryLimit).
		cmd.Env = append(os.Environ(), "GOMEMLIMIT=64MiB")
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	return json.Unmarshal(out.Bytes(), into)
}

func markdown(results []Result, concurrency, clients int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d cores (GOMAXPROCS %d), %s/%s, %s. Polls in flight: %d. Serving: %d concurrent clients, keep-alive.\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), concurrency, clients)
	b.WriteString("| feeds × items | items | floor (fetch+parse) | cold ingest | items/s | ratio to floor | CPU: ingest / floor | per feed | 304 pass | 304 CPU / 1000 feeds | warm pass, no 304 | warm / floor | peak RSS | live heap | DB bytes/item |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %d × %d | %d | %.2f s | %.2f s | %.0f | %.2f× | %.1f / %.1f s | %.2f ms | %.2f s | %.2f s | %.2f s | %.2f× | %.0f MB | %.0f MB | %.0f |\n",
			r.Feeds, r.ItemsPerFeed, r.Items, r.FloorSeconds, r.IngestSeconds, r.IngestItemsPerSec, r.RatioToFloor,
			r.IngestCPU, r.FloorCPU, r.PerFeedMillis, r.NotModifiedSeconds, r.CPUPer1000Feeds,
			r.WarmSeconds, r.WarmRatioToFloor, r.PeakRSSMB, r.LiveHeapMB, r.DBBytesPerItem)
	}
	b.WriteString("\nServing a cached 50-item per-tag Atom feed (`/tags/t0.atom`):\n\n")
	b.WriteString("| feeds × items | case | requests/s | × bare Go server | p50 | p99 | errors | body bytes |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		for _, s := range r.Serving {
			ratio := ""
			if s.ToBare > 0 {
				ratio = fmt.Sprintf("%.2f×", s.ToBare)
			}
			fmt.Fprintf(&b, "| %d × %d | %s | %.0f | %s | %.2f ms | %.2f ms | %d | %d |\n",
				r.Feeds, r.ItemsPerFeed, s.Case, s.RPS, ratio, s.P50Millis, s.P99Millis, s.Errors, s.BodyBytes)
		}
	}
	return b.String()
}

// discard reads a body to the end.
func discard(r io.Reader) int {
	n, _ := io.Copy(io.Discard, r)
	return int(n)
}
