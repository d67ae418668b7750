package aggregator

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/feedmux/feedmux"
)

// benchFeed is an RSS document of n items with about 1 KB of HTML each.
func benchFeed(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title><link>https://bench.example/</link><description>d</description>`)
	body := strings.Repeat(`&lt;p&gt;Officials said the talks would resume, &lt;a href="/ref"&gt;according to&lt;/a&gt; a statement. &lt;/p&gt;`, 10)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Ministers meet in Doha for talks number %d</title><link>https://bench.example/%d</link><guid>https://bench.example/%d</guid><pubDate>Tue, 26 Mar 2024 11:%02d:00 +0000</pubDate><category>World</category><category>Politics</category><description>%s</description></item>`, i, i, i, i%60, body)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// BenchmarkParseNormalize is the CPU work of one poll of a 50-item feed:
// charset, gofeed parse, normalize, sanitize, tag.
func BenchmarkParseNormalize(b *testing.B) {
	body := benchFeed(50)
	base, _ := url.Parse("https://bench.example/rss")
	feed := feedmux.Feed{URL: base.String(), Tags: []string{"world"}, Categories: true}
	tagger, _ := NewTagger(Rules{Topics: []Topic{{Tag: "gaza", Match: []string{"Gaza", "Rafah"}}}})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, doc, _, err := decodeFeed(body, "application/rss+xml", 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		if items := normalize(feed, doc, base, t0, tagger, nil); len(items) != 50 {
			b.Fatalf("%d items", len(items))
		}
	}
}
