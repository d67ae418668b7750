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

	// A bad duration stops the decoder at its line; the rest is checked once it is fixed.
	_, stderr, err := run1(brokenConfig)
	if err != errReported || !strings.Contains(stderr, path+`:6:`) || !strings.Contains(stderr, "fortnightly") {
		t.Errorf("bad duration: err %v, output:\n%s", err, stderr)
	}

	_, stderr, err = run1(strings.Replace(brokenConfig, `"fortnightly"`, `"15m"`, 1))
	if err != errReported {
		t.Fatalf("check of a broken config: %v, want exit status 1", err)
	}
	want := []string{
		path + `:3:1: unknown key "server.lissen"`,
		path + `:9:7: url "ftp://files.example/feed.xml": scheme must be http or https`,
		path + `:14:1: invalid tag ""`,
		path + `:14:1: invalid tag "Middle East" (did you mean "middle-east"?)`,
		path + `:17:7: duplicate feed https://a.example/rss (first at line 13)`,
		path + `:21:1: topic "gaza": regex "(unclosed" does not compile`,
		path + `:22:1: topic "gaza": unknown field "body"`,
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems reported, want %d:\n%s", len(lines), len(want), stderr)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: want it to start %q\ngot:\n%s", i+1, w, stderr)
		}
	}

	stdout, _, err := run1("[[feed]]\nurl = \"https://a.example/rss\"\ntags = [\"world\"]\n")
	if err != nil || !strings.Contains(stdout, "ok: 1 feeds") {
		t.Errorf("check of a good config: %v, %q", err, stdout)
	}
}
