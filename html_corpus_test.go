package feedmux

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmcdole/gofeed"
)

// TestSafeHTML_Corpus holds SafeHTML to bluemonday's policy on the HTML of
// every item of the feed corpus: bluemonday finds nothing to remove in
// what SafeHTML keeps, which is safe by the tests' own check and stays as
// it is when sanitized again.
func TestSafeHTML_Corpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("aggregator", "testdata", "corpus", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus feeds (%v)", err)
	}
	base, _ := url.Parse("https://news.example/a/b")
	fragments := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			continue // the corpus has broken feeds on purpose
		}
		for _, it := range doc.Items {
			for _, s := range []string{it.Description, it.Content} {
				if s == "" {
					continue
				}
				fragments++
				out := SafeHTML(s, base)
				if err := checkSafe(out); err != "" {
					t.Errorf("%s: SafeHTML keeps %s", f, err)
				}
				if strict := bluemondaySafeHTML(out, base); strict != out {
					t.Errorf("%s: bluemonday's policy removes from\n%q:\n%q", f, out, strict)
				}
				if again := SafeHTML(out, base); again != out {
					t.Errorf("%s: SafeHTML is not idempotent:\n%q\n%q", f, out, again)
				}
			}
		}
	}
	if fragments < 1000 {
		t.Errorf("only %d fragments of HTML in the corpus", fragments)
	}
}
