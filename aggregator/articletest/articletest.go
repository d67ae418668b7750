// Package articletest reads the article corpus (pages with their true
// article text) and scores extracted text with the metric of Zyte's
// article-extraction benchmark, for feedmux's tests.
package articletest

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// Page is a page of the corpus.
type Page struct {
	Key   string
	URL   string // where it was published
	Truth string // its article text
	HTML  []byte
}

// Load reads the corpus in dir: ground-truth.json.gz and html/KEY.html.gz.
func Load(dir string) ([]Page, error) {
	truth, err := readGzip(filepath.Join(dir, "ground-truth.json.gz"))
	if err != nil {
		return nil, err
	}
	var gt map[string]struct{ ArticleBody, URL string }
	if err := json.Unmarshal(truth, &gt); err != nil {
		return nil, err
	}
	var pages []Page
	for key, t := range gt {
		body, err := readGzip(filepath.Join(dir, "html", key+".html.gz"))
		if err != nil {
			return nil, err
		}
		pages = append(pages, Page{Key: key, URL: t.URL, Truth: t.ArticleBody, HTML: body})
	}
	slices.SortFunc(pages, func(a, b Page) int { return strings.Compare(a.Key, b.Key) })
	return pages, nil
}

func readGzip(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// Text is the text of an HTML fragment, a space between elements.
func Text(fragment string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		default:
			b.WriteByte(' ')
		}
	}
}

// Score is the benchmark's precision, recall and F1 of predicted texts
// against true ones, page by page: precision is the mean over pages where
// something was predicted, recall over pages with true text.
func Score(truth, predicted []string) (precision, recall, f1 float64) {
	var ps, rs float64
	var np, nr int
	for i := range truth {
		tp, fp, fn := match(truth[i], predicted[i])
		if tp+fp > 0 {
			ps += ratio(tp, fp, fn)
			np++
		}
		if tp+fn > 0 {
			rs += ratio(tp, fn, fp)
			nr++
		}
	}
	if np > 0 {
		precision = ps / float64(np)
	}
	if nr > 0 {
		recall = rs / float64(nr)
	}
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return precision, recall, f1
}

// ratio is tp/(tp+miss), 1 when nothing was wrong either way.
func ratio(tp, miss, other float64) float64 {
	if miss == 0 && other == 0 {
		return 1
	}
	if tp == 0 && miss == 0 {
		return 0
	}
	return tp / (tp + miss)
}

// match compares the 4-token shingles of two texts as multisets: the true
// positive, false positive and false negative shares (summing to 1).
func match(truth, predicted string) (tp, fp, fn float64) {
	ts, ps := shingles(truth), shingles(predicted)
	for k, tc := range ts {
		pc := ps[k]
		tp += float64(min(tc, pc))
		fn += float64(max(0, tc-pc))
	}
	for k, pc := range ps {
		fp += float64(max(0, pc-ts[k]))
	}
	if s := tp + fp + fn; s > 0 {
		tp, fp, fn = tp/s, fp/s, fn/s
	}
	return tp, fp, fn
}

// shingles are the runs of 4 consecutive tokens (Python's \w+: letters,
// numbers, underscore) of a text; a shorter text is one shingle.
func shingles(text string) map[string]int {
	toks := strings.FieldsFunc(text, func(r rune) bool { return r != '_' && !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	m := map[string]int{}
	if len(toks) == 0 {
		return m
	}
	for i := 0; i < max(1, len(toks)-3); i++ {
		m[strings.Join(toks[i:min(i+4, len(toks))], "\x00")]++
	}
	return m
}
