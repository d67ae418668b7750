package main

import (
	"fmt"
	"runtime"
	"strings"
)

// PeerResult is another aggregator's cold ingest of the farm.
type PeerResult struct {
	Name                string // "Miniflux v2.3.5"
	Feeds, ItemsPerFeed int
	Workers             string  // its worker pool size, as run
	MinConns            string  // its DATABASE_MIN_CONNS, as run: the idle connections it keeps
	ImportSeconds       float64 // the OPML import that gives it the feeds, not timed in Seconds
	Seconds             float64 // from the refresh-all request to the last entry stored
	FinishedSeconds     float64 // until every feed's refresh was recorded, at the polling's resolution (100 ms)
	Entries             int     // entries in its database at the end
	APITotal            int     // entries its API counts at the end
	FeedErrors          int     // feeds whose refresh failed
	CPU                 float64 // CPU seconds of its process during the ingest
	DBCPU               float64 // CPU seconds of PostgreSQL's processes during the ingest
	PeakRSSMB           float64 // VmHWM of its process (its whole life)
	DBPeakPSSMB         float64 // peak proportional set size of PostgreSQL's processes together, sampled every 0.5 s
	FeedGets, OtherGets int64   // requests to the farm during the ingest: for a feed, for anything else
	Warnings            int     // lines it logged at level WARN or ERROR
	DBSessions          int64   // PostgreSQL sessions opened during the ingest (its connection pool's churn)
}

// peerMarkdown is a table of the floor, feedmux's cold ingest and the
// peer's, on farms of one size, with notes on how the peer was measured.
func peerMarkdown(own Result, p PeerResult, concurrency int) string {
	var b strings.Builder
	size := fmt.Sprintf("%d × %d", own.Feeds, own.ItemsPerFeed)
	fmt.Fprintf(&b, "Machine: %d cores (GOMAXPROCS %d), %s/%s, %s. Cold ingest of one farm size; × floor is wall time over the floor's.\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	b.WriteString("| feeds × items | run | wall | × floor | CPU seconds | CPU: of which | peak RSS | items kept |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |\n")
	fmt.Fprintf(&b, "| %s | floor: fetch + gofeed parse, %d in flight, nothing stored | %.2f s | 1.00× | %.2f s | one process | %.0f MB | — |\n",
		size, concurrency, own.FloorSeconds, own.FloorCPU, own.FloorPeakRSSMB)
	fmt.Fprintf(&b, "| %s | feedmux: SQLite in-process, %d polls in flight | %.2f s | %.2f× | %.2f s | one process | %.0f MB | %d |\n",
		size, concurrency, own.IngestSeconds, own.RatioToFloor, own.IngestCPU, own.PeakRSSMB, own.Items)
	fmt.Fprintf(&b, "| %d × %d | %s: PostgreSQL 15, worker pool %s, DATABASE_MIN_CONNS %s | %.2f s | %.2f× | %.2f s | Miniflux %.2f s + PostgreSQL %.2f s | Miniflux %.0f MB; PostgreSQL %.0f MB (PSS, all processes) | %d |\n",
		p.Feeds, p.ItemsPerFeed, p.Name, p.Workers, p.MinConns, p.Seconds, p.Seconds/own.FloorSeconds, p.CPU+p.DBCPU, p.CPU, p.DBCPU,
		p.PeakRSSMB, p.DBPeakPSSMB, p.Entries)
	b.WriteString("\n")
	b.WriteString(peerNotes(own, p))
	return b.String()
}

// peerNotes says how the peer's row was measured and what it did besides.
func peerNotes(own Result, p PeerResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s got the feeds by an OPML import (POST /v1/import: %.2f s, not timed, as feedmux's feed sync is not); "+
		"its wall is from its refresh-all request (PUT /v1/feeds/refresh) to the creation time of its last entry; "+
		"every feed's refresh was recorded after %.2f s (polled every 100 ms).\n", p.Name, p.ImportSeconds, p.FinishedSeconds)
	fmt.Fprintf(&b, "- Requests to the farm during its ingest: %d for feeds (%d feeds), %d for anything else (icon discovery at the OPML's site URL, the farm's root, answered 404).\n",
		p.FeedGets, p.Feeds, p.OtherGets)
	fmt.Fprintf(&b, "- Entries: %d in its database, %d by its API (GET /v1/entries), of %d served; feeds with a failed refresh: %d; lines logged at WARN or ERROR: %d.\n",
		p.Entries, p.APITotal, p.Feeds*p.ItemsPerFeed, p.FeedErrors, p.Warnings)
	fmt.Fprintf(&b, "- PostgreSQL sessions opened during its ingest: %d (each a new server process: Miniflux keeps at most DATABASE_MIN_CONNS = %s connections idle, and opens one again when it needs more).\n", p.DBSessions, p.MinConns)
	b.WriteString("- feedmux's peak RSS is its worker's VmHWM after the cold, 304 and warm passes; Miniflux's is its process's over its whole life (migrations, import, ingest).\n")
	return b.String()
}
