package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics polls sources that answer ok, 304, 404 and 500, serves a few
// feeds, and checks that /metrics parses and counts what happened.
func TestMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>ok</title><link>https://ok.example/</link><description>d</description>
<item><title>One</title><link>https://ok.example/1</link></item><item><title>Two</title><link>https://ok.example/2</link></item></channel></rss>`)
		}
	}))
	t.Cleanup(srv.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	var cfg strings.Builder
	cfg.WriteString("[server]\nlisten = \"127.0.0.1:0\"\n")
	for _, name := range []string{"ok", "missing", "broken"} {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = %q\ntags = [\"x\"]\n", srv.URL+"/"+name)
	}
	if err := os.WriteFile(config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	base := "http://" + m.Server.Addr().String()
	waitFor(t, "the first poll cycle", m.Poller.Ready)
	for range 3 {
		get(t, base+"/tags/x.atom")
	}
	get(t, base+"/tags/nope.rss")
	if resp, _ := get(t, base+"/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz: %d after the first cycle", resp.StatusCode)
	}

	resp, body := get(t, base+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		v, ok := metricValue(t, body, name, labels)
		if !ok {
			t.Errorf("metric %s%v missing", name, labels)
			return -1
		}
		return v
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"feedmux_polls_total", map[string]string{"result": "ok"}, 1},
		{"feedmux_polls_total", map[string]string{"result": "error", "error_kind": "http_4xx"}, 1},
		{"feedmux_polls_total", map[string]string{"result": "error", "error_kind": "http_5xx"}, 1},
		{"feedmux_poll_duration_seconds", nil, 3},
		{"feedmux_items_inserted_total", nil, 2},
		{"feedmux_items_updated_total", nil, 0},
		{"feedmux_feeds", map[string]string{"state": "ok"}, 1},
		{"feedmux_feeds", map[string]string{"state": "failing"}, 2},
		{"feedmux_output_requests_total", map[string]string{"format": "atom", "status": "200"}, 3},
		{"feedmux_output_requests_total", map[string]string{"format": "rss", "status": "404"}, 1},
		{"feedmux_render_cache_misses_total", nil, 1},
		{"feedmux_render_cache_hits_total", nil, 2},
	} {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if v := value("feedmux_fetched_bytes_total", nil); v < 200 {
		t.Errorf("feedmux_fetched_bytes_total = %v, want the body's bytes", v)
	}
	if v := value("feedmux_database_bytes", nil); v < 4096 {
		t.Errorf("feedmux_database_bytes = %v", v)
	}
}

// metricValue is the value of the sample of metric name with labels in a
// Prometheus text page (a histogram's is its count), and whether there is
// one.
func metricValue(t testing.TB, page []byte, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, page)
	}
metrics:
	for _, mt := range families[name].GetMetric() {
		for k, v := range labels {
			if !hasLabel(mt, k, v) {
				continue metrics
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.Counter.GetValue(), true
		case mt.Gauge != nil:
			return mt.Gauge.GetValue(), true
		case mt.Histogram != nil:
			return float64(mt.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return value == ""
}
