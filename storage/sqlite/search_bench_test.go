package sqlite_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// searchBenchItems is the size of the search benchmark's database.
const searchBenchItems = 100_000

// readHeadlines reads testdata/search/headlines.txt.gz (see its README).
func readHeadlines(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/search/headlines.txt.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// searchBenchDB stores searchBenchItems items in 200 feeds of 500, each
// feed with one or two of ten tags (t0 ... t9). An item's title is a
// headline, its summary another, its content sanitized-looking HTML of
// five more with a link; times spread over 60 days, not in id order.
func searchBenchDB(b *testing.B) *sqlite.DB {
	b.Helper()
	ctx := b.Context()
	db := mustOpen(b, "")
	heads := readHeadlines(b)
	rng := rand.New(rand.NewPCG(1, 2))
	const perFeed = 500
	var feeds []feedmux.Feed
	for f := range searchBenchItems / perFeed {
		tags := []string{fmt.Sprintf("t%d", f%10)}
		if f%3 == 0 {
			tags = append(tags, fmt.Sprintf("t%d", (f/3)%10))
		}
		slices.Sort(tags)
		feeds = append(feeds, feedmux.Feed{URL: fmt.Sprintf("https://f%d.example/rss", f), Title: "F", Tags: slices.Compact(tags)})
	}
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		b.Fatal(err)
	}
	pick := func() string { return heads[rng.IntN(len(heads))] }
	for f, feed := range feeds {
		items := make([]feedmux.Item, perFeed)
		for i := range items {
			key := fmt.Sprintf("%d-%d", f, i)
			var body strings.Builder
			body.WriteString("<p>")
			for range 5 {
				body.WriteString(pick() + ". ")
			}
			fmt.Fprintf(&body, `</p><p><a href="https://f%d.example/news/%s" rel="noopener">Read more</a></p>`, f, key)
			items[i] = feedmux.Item{
				Key: key, GUID: key, URL: fmt.Sprintf("https://f%d.example/news/%s", f, key),
				Title: pick(), Summary: pick(), Content: body.String(), Tags: feed.Tags,
				Published: t0.Add(-time.Duration(rng.IntN(60*24*3600)) * time.Second),
			}
		}
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkSearch reads the first page (50 items) of searches of every
// kind among searchBenchItems items and reports the p50 and p99 latency of
// each: go test ./storage -run X -bench Search.
func BenchmarkSearch(b *testing.B) {
	db := searchBenchDB(b)
	for _, tc := range []struct {
		name, q string
		tags    []string
		exclude []string
	}{
		{"rare word", "witch", nil, nil},
		{"no match", "zyxwvut", nil, nil},
		{"common word", "to", nil, nil},
		{"frequent word", "new", nil, nil},
		{"two words", "apple iphone", nil, nil},
		{"two common words", "new to", nil, nil},
		{"phrase", `"game of thrones"`, nil, nil},
		{"or", "ebola OR samsung", nil, nil},
		{"exclusion", "google -android", nil, nil},
		{"common exclusion", "new -to", nil, nil},
		{"tag rare word", "witch", []string{"t3"}, nil},
		{"tag common word", "to", []string{"t3"}, nil},
		{"tag two words", "apple iphone", []string{"t3"}, nil},
		{"private excluded", "google", nil, []string{"t1", "t2"}},
	} {
		s, err := feedmux.ParseSearch(tc.q)
		if err != nil {
			b.Fatal(err)
		}
		matches, err := db.SearchMatches(b.Context(), &s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				page, err := db.ItemPage(b.Context(), feedmux.ItemFilter{Search: &s, Tags: tc.tags, Exclude: tc.exclude})
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				n = len(page.Items)
			}
			slices.Sort(times)
			p := func(q float64) float64 {
				return float64(times[min(len(times)-1, int(q*float64(len(times))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.ReportMetric(float64(n), "items")
			b.ReportMetric(float64(matches), "matches")
		})
	}
}
