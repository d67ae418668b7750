package servertest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const feedparserEntriesScript = `
import sys, json, time, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t) if t else ""
def author(e):
    # The name feedparser found in the author (RSS "email (Name)" included).
    if "author_detail" in e:
        return e.author_detail.get("name", "")
    return e.get("author", "")
out = []
for e in d.entries:
    out.append({"title": e.get("title", ""), "link": e.get("link", ""), "id": e.get("id", ""),
        "published": stamp(e.get("published_parsed")), "updated": stamp(e.get("updated_parsed")),
        "author": author(e), "source": (e.get("source") or {}).get("title", "")})
json.dump({"encoding": d.get("encoding", ""), "entries": out}, sys.stdout)
`

// FeedparserEntries reads doc with Python's feedparser, as Debian packages
// it, with chardet to guess undeclared encodings as feedparser does when
// it is installed. It returns the encoding feedparser chose and the
// entries. It skips the test, saying what is missing, without them.
func FeedparserEntries(tb testing.TB, doc []byte) (encoding string, entries []Entry) {
	tb.Helper()
	python := feedparserPython()
	if python == "" {
		tb.Skip("python3-feedparser is not installed (apt-get install -y python3-feedparser)")
	}
	if exec.Command(python, "-c", "import chardet").Run() != nil {
		tb.Skip("python3-chardet is not installed (apt-get install -y python3-chardet): feedparser guesses no encoding without it")
	}
	cmd := exec.Command(python, "-c", feedparserEntriesScript)
	cmd.Stdin = strings.NewReader(string(doc))
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("feedparser: %v", err)
	}
	var res struct {
		Encoding string  `json:"encoding"`
		Entries  []Entry `json:"entries"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		tb.Fatalf("feedparser printed %.200q: %v", out, err)
	}
	return res.Encoding, res.Entries
}
