package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are what /metrics reports, in the Prometheus text format.
type Metrics struct {
	reg *prometheus.Registry

	polls         *prometheus.CounterVec
	pollDuration  prometheus.Histogram
	fetchedBytes  prometheus.Counter
	itemsInserted prometheus.Counter
	itemsUpdated  prometheus.Counter
	requests      *prometheus.CounterVec
	cacheHits     prometheus.Counter
	cacheMisses   prometheus.Counter
	pages         *prometheus.CounterVec
	pageExtract   prometheus.Histogram
	hubDeliveries *prometheus.CounterVec
	hubVerified   *prometheus.CounterVec
	pushAccepted  prometheus.Counter
	pushRejected  prometheus.Counter
}

// NewMetrics registers feedmux's metrics, the Go runtime's and the
// process's.
func NewMetrics(src MetricsSource) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.makePollMetrics()
	m.makeOutputMetrics()
	m.makePageMetrics()
	m.makeWebSubMetrics()
	m.reg.MustRegister(m.polls, m.pollDuration, m.fetchedBytes, m.itemsInserted, m.itemsUpdated,
		m.requests, m.cacheHits, m.cacheMisses, m.pages, m.pageExtract, m.hubDeliveries, m.hubVerified,
		m.pushAccepted, m.pushRejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newSourceCollector(src))
	m.initLabels()
	return m
}

// makePollMetrics makes the metrics of polls: their results, durations,
// bytes and items.
func (m *Metrics) makePollMetrics() {
	m.polls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "feedmux_polls_total",
		Help: "Polls of source feeds by result: ok, not_modified or error, and for errors their kind.",
	}, []string{"result", "error_kind"})
	m.pollDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "feedmux_poll_duration_seconds",
		Help:    "Time one poll took: fetch, parse and store.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.fetchedBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_fetched_bytes_total",
		Help: "Bytes of feed bodies fetched, after decompression.",
	})
	m.itemsInserted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_items_inserted_total",
		Help: "Items stored for the first time.",
	})
	m.itemsUpdated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_items_updated_total",
		Help: "Stored items rewritten because their source changed them.",
	})
}

// makeOutputMetrics makes the metrics of output feed requests and the
// render cache.
func (m *Metrics) makeOutputMetrics() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "feedmux_output_requests_total",
		Help: "Requests for output feeds by format (atom, rss, json) and HTTP status.",
	}, []string{"format", "status"})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_render_cache_hits_total",
		Help: "Output feed requests answered from the render cache.",
	})
	m.cacheMisses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_render_cache_misses_total",
		Help: "Output feed requests that rendered the feed.",
	})
}

// makePageMetrics makes the metrics of article pages.
func (m *Metrics) makePageMetrics() {
	m.pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "feedmux_pages_total",
		Help: "Article pages of full_content feeds' items by result: fetched (and extracted) or failed.",
	}, []string{"result"})
	m.pageExtract = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "feedmux_page_extract_seconds",
		Help:    "Time taken to extract the article and metadata from one fetched page.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
}

// makeWebSubMetrics makes the metrics of feedmux's hub and of the documents
// other hubs push.
func (m *Metrics) makeWebSubMetrics() {
	m.hubDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "feedmux_websub_deliveries_total",
		Help: "Content distributions of feedmux's hub to its subscribers by result: ok, failed (tried again later) or dropped (failed for the last time: the subscription ended).",
	}, []string{"result"})
	m.hubVerified = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "feedmux_websub_verifications_total",
		Help: "Verifications of intent of feedmux's hub by result: confirmed or failed.",
	}, []string{"result"})
	m.pushAccepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_push_accepted_total",
		Help: "Documents WebSub hubs pushed that were signed with the subscription's secret, and read and stored.",
	})
	m.pushRejected = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "feedmux_push_rejected_total",
		Help: "Documents pushed to a WebSub callback that were discarded: a wrong or missing X-Hub-Signature, or a document that did not read.",
	})
}

// initLabels makes every label value exist from the start, so a rate over
// it works before the first event.
func (m *Metrics) initLabels() {
	m.pages.WithLabelValues("fetched")
	for _, r := range []string{"ok", "failed", "dropped"} {
		m.hubDeliveries.WithLabelValues(r)
	}
	m.hubVerified.WithLabelValues("confirmed")
	m.hubVerified.WithLabelValues("failed")
	m.pages.WithLabelValues("failed")
	m.polls.WithLabelValues("error", "storage")
	m.polls.WithLabelValues("ok", "")
	m.polls.WithLabelValues("not_modified", "")
}

// ObservePoll records one poll: its status (304 is not_modified), error
// kind ("" for none), duration, bytes and items.
func (m *Metrics) ObservePoll(status int, errKind string, took time.Duration, bytes, inserted, updated int) {
	switch {
	case errKind != "":
		m.polls.WithLabelValues("error", errKind).Inc()
	case status == http.StatusNotModified:
		m.polls.WithLabelValues("not_modified", "").Inc()
	default:
		m.polls.WithLabelValues("ok", "").Inc()
	}
	m.pollDuration.Observe(took.Seconds())
	m.fetchedBytes.Add(float64(bytes))
	m.itemsInserted.Add(float64(inserted))
	m.itemsUpdated.Add(float64(updated))
}

// ObservePage records one article page attempt and, when it was fetched,
// how long extraction took.
func (m *Metrics) ObservePage(fetched bool, extract time.Duration) {
	if fetched {
		m.pages.WithLabelValues("fetched").Inc()
		m.pageExtract.Observe(extract.Seconds())
	} else {
		m.pages.WithLabelValues("failed").Inc()
	}
}

// ObserveHubDelivery records one delivery attempt of the WebSub hub:
// "ok", "failed" or "dropped".
func (m *Metrics) ObserveHubDelivery(result string) { m.hubDeliveries.WithLabelValues(result).Inc() }

// ObserveHubVerification records one verification of intent.
func (m *Metrics) ObserveHubVerification(confirmed bool) {
	if confirmed {
		m.hubVerified.WithLabelValues("confirmed").Inc()
	} else {
		m.hubVerified.WithLabelValues("failed").Inc()
	}
}

// WatchLeading exports, read at each scrape, the roles this process leads
// among several sharing one database (1) or does not (0), labelled with
// the process's instance name.
func (m *Metrics) WatchLeading(instance string, roles []string, leads func(role string) bool) {
	for _, role := range roles {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "feedmux_leading",
			Help:        "1 while this process leads in the role (story grouping, retention, websub deliveries) among the processes sharing one database, else 0.",
			ConstLabels: prometheus.Labels{"role": role, "instance": instance},
		}, func() float64 {
			if leads(role) {
				return 1
			}
			return 0
		}))
	}
}

// WatchHubSubscriptions exports count, read at each scrape, as the gauge
// of the hub's subscriptions.
func (m *Metrics) WatchHubSubscriptions(count func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "feedmux_websub_subscriptions",
		Help: "Verified subscriptions at feedmux's WebSub hub.",
	}, func() float64 { return float64(count()) }))
}

// ObservePush records one document a WebSub hub pushed: accepted
// (signed and stored) or rejected.
func (m *Metrics) ObservePush(accepted bool) {
	if accepted {
		m.pushAccepted.Inc()
	} else {
		m.pushRejected.Inc()
	}
}

func (m *Metrics) observeRequest(format string, status int, hit bool) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(format, strconv.Itoa(status)).Inc()
	if hit {
		m.cacheHits.Inc()
	} else if status == http.StatusOK || status == http.StatusNotModified {
		m.cacheMisses.Inc()
	}
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
