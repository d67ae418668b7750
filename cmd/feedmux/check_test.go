package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenConfig plants one problem of every kind check must find.
const brokenConfig = `[server]
listen = ":8080"
lissen = ":9090"

[poll]
interval = "fortnightly"

[[feed]]
url = "ftp://files.example/feed.xml"
tags = ["world"]

[[feed]]
url = "https://a.example/rss"
tags = ["", "Middle East"]

[[feed]]
url = "https://a.example/rss"

[[topic]]
tag = "gaza"
regex = ['(unclosed']
fields = ["body"]
`

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.toml")
	run1 := func(doc string) (string, string, error) {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		err := run(t.Context(), []string{"check", "-config", path}, &stdout, &stderr, func(string) string { return "" })
		return stdout.String(), stderr.String(), err
	}

	// A value of the wrong form is reported with everything else.
	_, stderr, err := run1(brokenConfig)
	if err != errReported {
		t.Fatalf("check of a broken config: %v, want exit status 1", err)
	}
	want := []string{
		path + `:3:1: unknown key "server.lissen"`,
		path + `:6:12: poll.interval: invalid duration "fortnightly"`,
		path + `:9:7: url "ftp://files.example/feed.xml": scheme must be http or https`,
		path + `:14:1: invalid tag ""`,
		path + `:14:1: invalid tag "Middle East" (did you mean "middle-east"?)`,
		path + `:17:7: duplicate feed https://a.example/rss (first at line 13)`,
		path + `:21:1: topic "gaza": regex "(unclosed" does not compile`,
		path + `:22:1: topic "gaza": unknown field "body"`,
	}
	checkLines(t, stderr, want)

	// The operator's file of the issue: five problems of five kinds.
	_, stderr, _ = run1(`[server]
listen = ":8080"
[poll]
interval = "15 minutes"
intervall = "10m"

[[feed]]
url = "ftp://files.example/feed.xml"
tags = ["world"]

[[feed]]
url = "https://a.example/rss"
tags = ["world"]

[[feed]]
url = "https://a.example/rss"
tags = [""]
`)
	checkLines(t, stderr, []string{
		path + `:4:12: poll.interval: invalid duration "15 minutes"`,
		path + `:5:1: unknown key "poll.intervall"`,
		path + `:8:7: url "ftp://files.example/feed.xml": scheme must be http or https`,
		path + `:16:7: duplicate feed https://a.example/rss (first at line 12)`,
		path + `:17:1: invalid tag ""`,
	})

	// Values of the wrong type, then a syntax error: what comes before the
	// broken table is still checked.
	_, stderr, _ = run1(`[poll]
concurrency = "eight"
max_body = -5

[[feed]]
url = "ftp://x.example/feed"
tags = [1]

[[feed]]
url = "https://y.example/feed"
title = "unclosed
`)
	checkLines(t, stderr, []string{
		path + `:2:15: poll.concurrency: a TOML string, where an integer is expected`,
		path + `:3:12: poll.max_body must be at least 1024 bytes`,
		path + `:6:7: url "ftp://x.example/feed": scheme must be http or https`,
		path + `:7:9: feed.tags: a TOML integer, where a string is expected`,
		path + `:11:18: TOML syntax error: basic strings cannot have new lines (the rest of the file is checked once this is fixed)`,
	})

	stdout, _, err := run1("[[feed]]\nurl = \"https://a.example/rss\"\ntags = [\"world\"]\n")
	if err != nil || !strings.Contains(stdout, "ok: 1 feeds") {
		t.Errorf("check of a good config: %v, %q", err, stdout)
	}
}

// checkLines compares a report line by line with the prefixes it must have.
func checkLines(t *testing.T, report string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(report), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems reported, want %d:\n%s", len(lines), len(want), report)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: want it to start %q\ngot:\n%s", i+1, w, report)
		}
	}
}
