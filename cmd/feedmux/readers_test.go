package main

import (
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux/server/servertest"
)

// servedDoc is one document feedmux served to the readers.
type servedDoc struct {
	url, format, file string
	at                time.Time
	entries           []servertest.Entry
}

// TestReaders_Corpus serves the corpus through feedmux and has real feed
// readers read every tag's feed in every format they read: each entry's
// title, link, id, dates, author and source must be what feedmux served,
// but for the documented behaviours of each reader.
func TestReaders_Corpus(t *testing.T) {
	base, tags := startCorpus(t)
	dir := t.TempDir()
	if d := os.Getenv("FEEDMUX_READERS_DIR"); d != "" { // keep the documents, to look at a difference
		dir = d
	}
	var docs []servedDoc
	for _, tag := range append(tags, "") {
		for _, format := range []string{"atom", "rss", "json"} {
			path := "/tags/" + tag + "." + format
			if tag == "" {
				path = "/all." + format
			}
			queries := []string{""}
			if tag == "everything" || tag == "hostile" || tag == "" {
				queries = append(queries, "?limit=500")
			}
			for _, q := range queries {
				resp, body := get(t, base+path+q)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %s", path+q, resp.Status)
				}
				d := servedDoc{url: base + path + q, format: format, at: time.Now()}
				d.file = filepath.Join(dir, strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(strings.TrimPrefix(path+q, "/")))
				if err := os.WriteFile(d.file, body, 0o644); err != nil {
					t.Fatal(err)
				}
				var err error
				if d.entries, err = servertest.ServedEntries(format, body); err != nil {
					t.Fatalf("%s: %v", path+q, err)
				}
				docs = append(docs, d)
			}
		}
	}
	for _, r := range servertest.Readers {
		t.Run(r.Name, func(t *testing.T) {
			var files []string
			for _, d := range docs {
				if r.Reads(d.format) {
					files = append(files, d.file)
				}
			}
			read := map[string]servertest.Read{}
			if r.FromURLs {
				// newsboat keeps an entry once, under the first feed that
				// brought it: read feeds that share no entry together.
				for _, group := range disjointFeeds(docs, r) {
					maps.Copy(read, servertest.ReadWithNewsboat(t, group))
				}
			} else {
				read = r.ReadFiles(t, files)
			}
			compared := 0
			for _, d := range docs {
				if !r.Reads(d.format) {
					continue
				}
				key := d.file
				if r.FromURLs {
					key = d.url
				}
				for _, diff := range servertest.Differences(r, d.entries, read[key], d.at) {
					u, _ := url.Parse(d.url)
					t.Errorf("%s: %s", u.RequestURI(), diff)
				}
				compared += len(d.entries)
			}
			t.Logf("%s %s: %d entries of %d documents compared", r.Name, r.Version, compared, len(files))
		})
	}
}

// disjointFeeds splits the URLs of the documents r reads into groups in
// which no two documents share an entry id.
func disjointFeeds(docs []servedDoc, r servertest.Reader) [][]string {
	var groups [][]string
	var ids []map[string]bool
	for _, d := range docs {
		if !r.Reads(d.format) {
			continue
		}
		g := slices.IndexFunc(ids, func(seen map[string]bool) bool {
			return !slices.ContainsFunc(d.entries, func(e servertest.Entry) bool { return seen[e.ID] })
		})
		if g < 0 {
			g = len(groups)
			groups, ids = append(groups, nil), append(ids, map[string]bool{})
		}
		groups[g] = append(groups[g], d.url)
		for _, e := range d.entries {
			ids[g][e.ID] = true
		}
	}
	return groups
}
