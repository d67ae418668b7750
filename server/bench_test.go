package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// benchItems are n stored items of about 1 KB of HTML each, tagged world.
func benchItems(n int) []feedmux.Item {
	src := feedmux.Source{URL: "https://a.example/feed.xml", Title: "A", SiteURL: "https://a.example/"}
	para := "<p>" + strings.Repeat("Lorem ipsum dolor sit amet, <a href=\"/x\">consectetur</a> adipiscing elit. ", 12) + "</p>"
	items := make([]feedmux.Item, n)
	for i := range items {
		items[i] = feedmux.Item{
			Key: fmt.Sprint(i), URL: fmt.Sprintf("https://a.example/%d", i), Title: fmt.Sprintf("Item %d of the benchmark", i),
			Content: para, Summary: "A summary", Published: t0.Add(-time.Duration(i) * time.Minute),
			Tags: []string{"world", "news"}, Author: "Ed", Source: src,
		}
	}
	return items
}

// BenchmarkRender renders a 50-item tag feed, as on a cache miss (the
// database read not included).
func BenchmarkRender(b *testing.B) {
	items := benchItems(50)
	for _, format := range []string{formatAtom, formatRSS, formatJSON} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render(format, testChannel, items); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServe answers requests for a cached 50-item Atom feed through
// the whole handler: a cache hit, a gzipped hit and a 304.
func BenchmarkServe(b *testing.B) {
	ts := newTestServer(b, benchItems(50))
	h := ts.Handler()
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest("GET", "/tags/world.atom", nil))
	etag := first.Header().Get("ETag")
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"200", nil},
		{"200 gzip", []string{"Accept-Encoding", "gzip"}},
		{"304", []string{"If-None-Match", etag}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest("GET", "/tags/world.atom", nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 && rec.Code != 304 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
