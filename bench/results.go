package main

import (
	"fmt"
	"runtime"
	"strings"
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
	StoreFloorSeconds   float64 // the floor with each item inserted into a bare SQLite table
	StoreFloorCPU       float64 // CPU seconds of that
	FloorPeakRSSMB      float64 // VmHWM of the floor's process
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

// markdown is the results as Markdown tables: one of the ingest passes, one
// of serving.
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
	b.WriteString("\nThe cold ingest against two yardsticks: the floor, and the floor with every item inserted into a bare SQLite table (`bench/storefloor.go`: one table keyed by feed and id, one transaction per feed, no sanitizing, tags, copies, search index or grouping):\n\n")
	b.WriteString("| feeds × items | floor: wall, CPU | floor + bare insert: wall, CPU | feedmux: wall, CPU | feedmux ÷ floor + bare insert: wall, CPU |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		if r.StoreFloorSeconds > 0 {
			fmt.Fprintf(&b, "| %d × %d | %.2f s, %.1f s | %.2f s, %.1f s | %.2f s, %.1f s | %.2f×, %.2f× |\n", r.Feeds, r.ItemsPerFeed,
				r.FloorSeconds, r.FloorCPU, r.StoreFloorSeconds, r.StoreFloorCPU, r.IngestSeconds, r.IngestCPU,
				r.IngestSeconds/r.StoreFloorSeconds, r.IngestCPU/r.StoreFloorCPU)
		}
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
