package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/feedmux/feedmux/aggregator"
)

// FuzzParseConfig: any document parses into a configuration or into
// errors that each name the file, never a panic; an accepted configuration
// holds only valid feeds and tags.
func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("../../feeds.toml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(brokenConfig))
	f.Add([]byte("[[topic]]\ntag = \"x\"\nregex = ['(?i)a+']\n[aliases]\nx = [\"X\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.toml", data)
		if err != nil {
			for _, e := range unwrapAll(err) {
				if !strings.HasPrefix(e.Error(), "fuzz.toml") {
					t.Fatalf("error without the file name: %q", e)
				}
			}
			return
		}
		for _, feed := range cfg.FeedList() {
			if err := feed.Validate(); err != nil {
				t.Fatalf("accepted an invalid feed: %v", err)
			}
		}
		if _, err := aggregator.NewTagger(cfg.Rules()); err != nil {
			t.Fatalf("accepted topic rules that do not compile: %v", err)
		}
	})
}

func unwrapAll(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	return []error{err}
}
