// Command bench measures feedmux against a loopback farm of generated
// feeds: cold ingest against the fetch-and-parse floor, a pass where
// everything answers 304, peak memory, database size, and serving
// throughput and latency of a cached per-tag feed. It also runs the
// load-while-ingesting survival check (-load).
//
//	go run ./bench                      # 500 feeds x 50 items
//	go run ./bench -matrix              # 50x50, 500x50, 2000x50, 10000x20
//	go run ./bench -load 60s            # readers during a heavy ingest; exit 1 on a failure
//	go run ./bench -peer miniflux       # the floor, feedmux and Miniflux, one cold ingest each
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
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// options are the command's flags.
type options struct {
	feeds, items, concurrency, clients int
	matrix                             bool
	serveFor, load                     time.Duration
	jsonOut                            string
	worker, farmURL, dbPath            string
	cpuProfile, profile                string
	headlines                          int
	pg                                 bool
	instances                          int
	instance                           string
	peer, peerEnv                      string
}

func main() {
	o := parseFlags()
	log.SetFlags(0)
	switch {
	case o.worker == "shared":
		if err := runSharedWorker(o); err != nil {
			log.Fatal(err)
		}
		return
	case o.instances > 0:
		table, err := measureShared(o.feeds, o.items, o.instances, o.concurrency)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(table)
		return
	case o.worker != "":
		if err := runWorkerProcess(o); err != nil {
			log.Fatal(err)
		}
		return
	case o.peer != "":
		table, err := measurePeer(o)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(table)
		return
	case o.load > 0:
		if err := runLoad(o.load, o.clients); err != nil {
			log.Fatalf("load check failed: %v", err)
		}
		return
	}
	measureSizes(o)
}

// parseFlags reads the command's flags.
func parseFlags() options {
	var o options
	flag.IntVar(&o.feeds, "feeds", 500, "number of feeds in the farm")
	flag.IntVar(&o.items, "items", 50, "items per feed")
	flag.BoolVar(&o.matrix, "matrix", false, "run 50x50, 500x50, 2000x50 and 10000x20")
	flag.IntVar(&o.concurrency, "concurrency", 8, "polls in flight")
	flag.IntVar(&o.clients, "clients", 64, "concurrent HTTP clients for the serving measurement")
	flag.DurationVar(&o.serveFor, "serve", 3*time.Second, "duration of each serving measurement")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.DurationVar(&o.load, "load", 0, "run the load-while-ingesting check for this long instead")
	flag.StringVar(&o.worker, "worker", "", "internal: run one measurement in this process (floor, storefloor or ingest)")
	flag.StringVar(&o.farmURL, "farm", "", "internal: the farm's URL")
	flag.StringVar(&o.dbPath, "db", "", "internal: the database of the ingest worker")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write the ingest worker's CPU profile to this file")
	flag.StringVar(&o.profile, "profile", "all", "what -cpuprofile covers: all (the ingest worker's whole run), cold (its cold ingest only), warm (its pass where nothing answers 304) or serve (its serving measurement)")
	flag.IntVar(&o.headlines, "headlines", 0, "when set, every item of the farm has one of this many headlines, a number in each (a syndicated wire story)")
	flag.BoolVar(&o.pg, "pg", false, "measure feedmux on PostgreSQL (a private cluster: needs PostgreSQL's server binaries) instead of SQLite")
	flag.IntVar(&o.instances, "instances", 0, "measure a cold ingest by one process and by this many processes together on one PostgreSQL database (feeds per second in all) instead")
	flag.StringVar(&o.instance, "instance", "", "internal: the name of a shared worker")
	flag.StringVar(&o.peer, "peer", "", "also measure this aggregator's cold ingest of the same farm size (miniflux: builds Miniflux "+minifluxVersion+" once, runs it on a private PostgreSQL cluster) beside the floor's and feedmux's")
	flag.StringVar(&o.peerEnv, "peer-env", "", "extra KEY=VALUE settings for the peer, comma-separated (e.g. WORKER_POOL_SIZE=8)")
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: go run ./bench [flags]\n\nMeasures feedmux against a loopback farm of generated feeds and prints a Markdown table.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	return o
}

// runSharedWorker runs one shared worker of -instances in this process and
// prints its result as JSON.
func runSharedWorker(o options) error {
	f := &farm{n: o.feeds, m: o.items, tags: max(1, o.feeds/10), URL: o.farmURL}
	r, err := sharedWorker(f, o.concurrency, o.dbPath, o.instance)
	if err != nil {
		return err
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return nil
}

// runWorkerProcess runs one measurement, floor or ingest, in this process,
// the ingest under the CPU profile -cpuprofile asks for.
func runWorkerProcess(o options) error {
	if o.cpuProfile != "" && o.worker == "ingest" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if o.profile == "cold" || o.profile == "warm" || o.profile == "serve" {
			passProfile, profilePass = f, o.profile
		} else {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	runWorker(o.worker, o.farmURL, o.feeds, o.items, o.concurrency, o.clients, o.serveFor, o.dbPath)
	return nil
}

// measureSizes measures each size asked for, on SQLite or on a private
// PostgreSQL cluster, prints the table and writes the JSON when asked. It
// exits on an error, stopping the cluster first when a measurement fails.
func measureSizes(o options) {
	newDB := func(dir string) (string, error) { return filepath.Join(dir, "bench.db"), nil }
	stop := func() {}
	if o.pg {
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
	sizes := [][2]int{{o.feeds, o.items}}
	if o.matrix {
		sizes = [][2]int{{50, 50}, {500, 50}, {2000, 50}, {10000, 20}}
	}
	var results []Result
	for _, s := range sizes {
		log.Printf("measuring %d feeds x %d items ...", s[0], s[1])
		profileOf = o.profile
		r, err := measureSize(s[0], s[1], o.headlines, o.concurrency, o.clients, o.serveFor, o.cpuProfile, newDB)
		if err != nil {
			stop() // log.Fatal skips the deferred one
			log.Fatal(err)
		}
		results = append(results, r)
	}
	fmt.Print(markdown(results, o.concurrency, o.clients))
	if o.jsonOut != "" {
		data, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.jsonOut, data, 0o644); err != nil {
			stop() // log.Fatal skips the deferred one
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
	var store Result
	if err := runChild(append([]string{"-worker", "storefloor", "-db", filepath.Join(dir, "storefloor.db")}, args...), &store); err != nil {
		return Result{}, fmt.Errorf("store floor: %w", err)
	}
	db, err := newDB(dir)
	if err != nil {
		return Result{}, err
	}
	if err := runChild(append([]string{"-worker", "ingest", "-db", db}, args...), &ingest); err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	ingest.FloorSeconds, ingest.FloorCPU, ingest.FloorPeakRSSMB = floor.FloorSeconds, floor.FloorCPU, floor.PeakRSSMB
	ingest.StoreFloorSeconds, ingest.StoreFloorCPU = store.StoreFloorSeconds, store.StoreFloorCPU
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

// discard reads a body to the end.
func discard(r io.Reader) int {
	n, _ := io.Copy(io.Discard, r)
	return int(n)
}
