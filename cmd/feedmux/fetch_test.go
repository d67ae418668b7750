package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	feeds := newFeedServer(t)
	config := writeConfig(t, feeds.URL)
	db := filepath.Join(t.TempDir(), "feedmux.db")
	fetch := func() string {
		t.Helper()
		var stdout, stderr strings.Builder
		err := run(t.Context(), []string{"fetch", "-config", config, "-db", db, "-log-level", "error"}, &stdout, &stderr, func(string) string { return "" })
		if err != nil {
			t.Fatalf("fetch: %v\n%s%s", err, stdout.String(), stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("fetch wrote to a non-terminal stderr: %q", stderr.String())
		}
		return stdout.String()
	}
	out := fetch()
	for _, want := range []string{
		`(?m)^FEED\s+STATUS\s+NEW\s+TIME$`,
		`(?m)^Levant Broadcast\s+ok\s+3\s+\d`,
		`(?m)/world\.atom\s+ok\s+2\s+\d`,
		`(?m)^3 feeds, 0 failed, 7 new items$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("first fetch output lacks %s:\n%s", want, out)
		}
	}
	out = fetch()
	for _, want := range []string{`(?m)^Levant Broadcast\s+not modified\s+0\s`, `(?m)^3 feeds, 0 failed, 0 new items$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("second fetch output lacks %s:\n%s", want, out)
		}
	}
}
