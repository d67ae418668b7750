package aggregator_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// corpusEntry is a row of testdata/corpus/MANIFEST.tsv.
type corpusEntry struct {
	File     string
	Category string
	Parses   bool
	Items    int
}

func readManifest(tb testing.TB) []corpusEntry {
	tb.Helper()
	f, err := os.Open("testdata/corpus/MANIFEST.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var entries []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 6 {
			tb.Fatalf("MANIFEST.tsv:%d: %d columns", line+1, len(cols))
		}
		n, _ := strconv.Atoi(cols[5])
		entries = append(entries, corpusEntry{File: cols[0], Category: cols[3], Parses: cols[4] == "yes", Items: n})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return entries
}

// TestPoller_Corpus ingests every real-world document of the corpus: each
// yields items or a recorded, readable error, and none crashes the poller.
func TestPoller_Corpus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/corpus")))
	defer srv.Close()
	p, db := newPoller(t)
	p.Now = time.Now // corpus dates span decades; judge them against today
	var matched, withItems, failed int
	entries := readManifest(t)
	for _, e := range entries {
		t.Run(e.File, func(t *testing.T) {
			feed := feedmux.Feed{URL: srv.URL + "/" + e.File, Interval: time.Hour, Categories: true}
			res, err := p.Poll(t.Context(), feed)
			st, serr := db.FeedState(t.Context(), feed.URL)
			if serr != nil {
				t.Fatal(serr)
			}
			if err != nil {
				failed++
				if st.LastError == "" || st.Errors != 1 {
					t.Errorf("failed poll not recorded: %+v", st)
				}
				if e.Parses && e.Items > 0 {
					t.Errorf("the oracle found %d items, feedmux failed: %v", e.Items, err)
				}
				return
			}
			if res.Inserted > 0 {
				withItems++
			} else if e.Parses && e.Items > 0 {
				t.Errorf("the oracle found %d items, feedmux stored none", e.Items)
			}
			if e.Parses && res.Inserted >= e.Items {
				matched++
			}
			items, err := db.Items(t.Context(), feedmux.ItemFilter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Source.URL != feed.URL {
					continue
				}
				if strings.Contains(it.Content, "<script") || strings.Contains(it.Summary, "<script") {
					t.Errorf("item %q keeps a script", it.Key)
				}
				if !it.Published.IsZero() && it.Published.Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("item %q keeps an implausible date %v", it.Key, it.Published)
				}
			}
		})
	}
	t.Logf("%d documents: %d gave items, %d failed with a recorded error, %d matched the oracle's item count", len(entries), withItems, failed, matched)
}
