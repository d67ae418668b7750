// Package servertest checks feed documents with the external validators
// the project holds its output to: jing with the RFC 4287 RELAX NG schema
// for Atom, and Debian's python3-feedparser for RSS and Atom. Tests that use
// it skip, saying what is missing, where a validator is not installed;
// .ci/run installs both.
package servertest

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed atom.rnc
var atomSchema []byte

// Jing validates an Atom document against the RFC 4287 schema.
func Jing(tb testing.TB, doc []byte) {
	tb.Helper()
	jing, err := exec.LookPath("jing")
	if err != nil {
		tb.Skip("jing is not installed (apt-get install -y jing); skipping RELAX NG validation")
	}
	dir := tb.TempDir()
	schema := filepath.Join(dir, "atom.rnc")
	file := filepath.Join(dir, "feed.atom")
	if err := os.WriteFile(schema, atomSchema, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(jing, "-c", schema, file).CombinedOutput()
	if err != nil {
		tb.Errorf("jing rejects the Atom document: %v\n%s\ndocument:\n%s", err, out, excerpt(doc))
	}
}

// feedparserScript parses stdin and prints the bozo flag, the feed version
// and the number of entries, or the bozo exception.
const feedparserScript = `
import sys, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
if d.bozo:
    print("bozo: %r" % (d.bozo_exception,))
    sys.exit(1)
print(d.version, len(d.entries))
`

// Feedparser parses an RSS or Atom document with Python's feedparser and
// fails the test when its bozo flag is set. It returns the feed version
// feedparser detected ("rss20", "atom10") and the number of entries.
func Feedparser(tb testing.TB, doc []byte) (version string, entries int) {
	tb.Helper()
	python := feedparserPython()
	if python == "" {
		tb.Skip("python3-feedparser is not installed (apt-get install -y python3-feedparser); skipping feedparser validation")
	}
	cmd := exec.Command(python, "-c", feedparserScript)
	cmd.Stdin = strings.NewReader(string(doc))
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Errorf("feedparser: %v\n%s\ndocument:\n%s", err, out, excerpt(doc))
		return "", 0
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		tb.Errorf("feedparser printed %q", out)
		return "", 0
	}
	n := 0
	for _, c := range fields[1] {
		n = n*10 + int(c-'0')
	}
	return fields[0], n
}

// feedparserPython finds a Python that can import feedparser: Debian's
// package installs it for /usr/bin/python3, which a pyenv shim may hide.
func feedparserPython() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import feedparser").Run() == nil {
			return path
		}
	}
	return ""
}

func excerpt(doc []byte) string {
	if len(doc) > 4000 {
		return string(doc[:4000]) + "\n…"
	}
	return string(doc)
}
