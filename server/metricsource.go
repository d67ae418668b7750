package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feedmux/feedmux"
)

// MetricsSource answers the gauges read at each scrape.
type MetricsSource interface {
	// FeedHealth counts the configured feeds by health: ok, failing, gone.
	FeedHealth(ctx context.Context) (map[string]int, error)
	// Size is the database's size on disk in bytes.
	Size() (int64, error)
	// WriteHealth says whether the database takes writes.
	WriteHealth() feedmux.WriteHealth
	// UngroupedCount is the number of items waiting for story grouping.
	UngroupedCount(ctx context.Context) (int, error)
	// PagesWaiting is the number of items whose article page waits to be
	// fetched.
	PagesWaiting(ctx context.Context) (int, error)
}

// newSourceCollector returns the collector of the gauges src answers.
func newSourceCollector(src MetricsSource) *sourceCollector {
	return &sourceCollector{src: src,
		feeds: prometheus.NewDesc("feedmux_feeds", "Configured source feeds by health: ok, failing, gone.", []string{"state"}, nil),
		size:  prometheus.NewDesc("feedmux_database_bytes", "Size of the SQLite database on disk, write-ahead log included.", nil, nil),
		writeFault: prometheus.NewDesc("feedmux_database_write_failing",
			"1 while the database cannot be written (full disk, read-only file system, I/O error, size limit): nothing new is stored and polling is paused; 0 otherwise.", nil, nil),
		writeFailures: prometheus.NewDesc("feedmux_database_write_failures_total",
			"Write transactions that failed for a reason of the machine's since the start.", nil, nil),
		ungrouped: prometheus.NewDesc("feedmux_stories_waiting",
			"Stored items waiting for story grouping, which runs beside polling; they show alone in the stories view until grouped.", nil, nil),
		pagesWaiting: prometheus.NewDesc("feedmux_pages_waiting",
			"Items of full_content feeds whose article page is yet to be fetched (retries included); they show their feed's text until then.", nil, nil),
	}
}

// sourceCollector reads the gauges that live in the database at scrape time.
type sourceCollector struct {
	src                       MetricsSource
	feeds, size, ungrouped    *prometheus.Desc
	pagesWaiting              *prometheus.Desc
	writeFault, writeFailures *prometheus.Desc
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.feeds
	ch <- c.size
	ch <- c.writeFault
	ch <- c.writeFailures
	ch <- c.ungrouped
	ch <- c.pagesWaiting
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	// Only stops a hung read: the scraper's own timeout (Prometheus: 10 s)
	// is the one that should end a slow scrape, not this.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if health, err := c.src.FeedHealth(ctx); err == nil {
		for _, state := range []string{"ok", "failing", "gone"} {
			ch <- prometheus.MustNewConstMetric(c.feeds, prometheus.GaugeValue, float64(health[state]), state)
		}
	} else {
		ch <- prometheus.NewInvalidMetric(c.feeds, err)
	}
	if n, err := c.src.Size(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(c.size, err)
	}
	h := c.src.WriteHealth()
	failing := 0.0
	if h.Err != nil {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(c.writeFault, prometheus.GaugeValue, failing)
	ch <- prometheus.MustNewConstMetric(c.writeFailures, prometheus.CounterValue, float64(h.Failures))
	if n, err := c.src.UngroupedCount(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.ungrouped, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(c.ungrouped, err)
	}
	if n, err := c.src.PagesWaiting(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.pagesWaiting, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(c.pagesWaiting, err)
	}
}
