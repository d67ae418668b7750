package feedmux

import (
	"net/url"
	"testing"
)

// TestSafeHTML_Corpus holds SafeHTML to bluemonday's policy on the HTML of
// every item of the feed corpus: bluemonday finds nothing to remove in
// what SafeHTML keeps, which is safe by the tests' own check and stays as
// it is when sanitized again.
func TestSafeHTML_Corpus(t *testing.T) {
	base, _ := url.Parse("https://news.example/a/b")
	frags := corpusHTML(t)
	for _, f := range frags {
		out := SafeHTML(f.html, base)
		if err := checkSafe(out); err != "" {
			t.Errorf("%s: SafeHTML keeps %s", f.file, err)
		}
		if strict := bluemondaySafeHTML(out, base); strict != out {
			t.Errorf("%s: bluemonday's policy removes from\n%q:\n%q", f.file, out, strict)
		}
		if again := SafeHTML(out, base); again != out {
			t.Errorf("%s: SafeHTML is not idempotent:\n%q\n%q", f.file, out, again)
		}
	}
	if len(frags) < 1000 {
		t.Errorf("only %d fragments of HTML in the corpus", len(frags))
	}
}
