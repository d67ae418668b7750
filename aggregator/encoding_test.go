package aggregator_test

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server/servertest"
)

// TestPoller_EncodingsLikeFeedparser polls every encoding document of the
// corpus (legacy labels, stale labels over UTF-8 bytes, undeclared legacy
// bytes, UTF-16 and UTF-32) and compares each item's title and author's
// name with what feedparser, guessing with chardet, makes of the same bytes.
func TestPoller_EncodingsLikeFeedparser(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/corpus/enc-*")
	if err != nil || len(files) < 10 {
		t.Fatalf("%d encoding documents in testdata/corpus (%v)", len(files), err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/corpus")))
	defer srv.Close()
	p, db := newPoller(t)
	p.Now = time.Now
	compared := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, want := servertest.FeedparserEntries(t, doc)
			if len(want) == 0 {
				// UTF-16 without a mark or a declaration, bare <rss></rss>:
				// feedparser reads nothing to compare with.
				t.Logf("feedparser reads no entries")
				return
			}
			feed := feedmux.Feed{URL: srv.URL + "/" + name, Interval: time.Hour}
			p.Poll(t.Context(), feed)
			items, err := db.Items(t.Context(), feedmux.ItemFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			// feedmux keeps one item per key where feedparser lists every
			// entry, so each item must be one of feedparser's entries, and
			// there must be as many as feedparser has distinct ids.
			type pair struct{ title, author string }
			theirs, ids := map[pair]bool{}, map[string]bool{}
			for _, e := range want {
				theirs[pair{oneLine(e.Title), oneLine(e.Author)}] = true
				ids[cmp.Or(e.ID, e.Link, e.Title)] = true
			}
			n := 0
			for _, it := range items {
				if it.Source.URL != feed.URL {
					continue
				}
				n++
				if !theirs[pair{it.Title, it.Author}] {
					t.Errorf("item %q by %q: feedparser has no such entry", it.Title, it.Author)
				}
			}
			if n < len(ids) {
				t.Errorf("%d items, feedparser has %d distinct entries", n, len(ids))
			}
			compared += len(want)
		})
	}
	t.Logf("%d documents, %d entries compared with feedparser", len(files), compared)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
