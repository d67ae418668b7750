package aggregator

import (
	"net/url"
	"testing"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator/articletest"
)

// TestExtract_ArticleCorpus scores the article extraction, sanitized as it
// is stored, on the 70 pages of the article corpus with the benchmark's
// metric. The README's table quotes it; the daemon's figure is
// TestFullContent_ArticleCorpus's.
func TestExtract_ArticleCorpus(t *testing.T) {
	t.Parallel()
	pages, err := articletest.Load("testdata/articles")
	if err != nil {
		t.Fatal(err)
	}
	var truth, got []string
	for _, pg := range pages {
		base, _ := url.Parse(pg.URL)
		article, _ := extractArticle(pg.HTML, base, nil)
		truth = append(truth, pg.Truth)
		got = append(got, articletest.Text(feedmux.SafeHTML(article, base)))
	}
	p, r, f1 := articletest.Score(truth, got)
	t.Logf("article corpus: P %.3f R %.3f F1 %.3f over %d pages", p, r, f1, len(pages))
	if len(pages) != 70 || f1 < 0.95 {
		t.Errorf("F1 %.3f over %d pages, want at least 0.95 over 70", f1, len(pages))
	}
}

// BenchmarkExtract extracts the article and metadata of each page of the
// article corpus and sanitizes it, as a page fetch does after the network.
func BenchmarkExtract(b *testing.B) {
	pages, err := articletest.Load("testdata/articles")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, pg := range pages {
			base, _ := url.Parse(pg.URL)
			article, _ := extractArticle(pg.HTML, base, nil)
			feedmux.SafeHTML(article, base)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(pages)), "ms/page")
	b.ReportMetric(float64(b.N*len(pages))/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(0, "ns/op")
}
