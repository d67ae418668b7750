package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux/server/servertest"
)

// TestReaders_PlantedFaults shows that the interoperability test fails
// when feedmux's output is wrong: each reader reads documents with a fault
// planted in them (an entry dropped, a date in the future, a link lost),
// compared with what the right document serves.
func TestReaders_PlantedFaults(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	future := renderNow.Add(time.Hour)
	faults := map[string]struct {
		plant map[string]func(string) string // by format
		want  string                         // in the differences
	}{
		"dropped entry": {map[string]func(string) string{
			"atom": func(d string) string {
				return regexp.MustCompile(`(?s)<entry>.*?</entry>`).ReplaceAllStringFunc(d, once(""))
			},
			"rss": func(d string) string {
				return regexp.MustCompile(`(?s)<item>.*?</item>`).ReplaceAllStringFunc(d, once(""))
			},
		}, "entries read"},
		"date in the future": {map[string]func(string) string{
			"atom": func(d string) string {
				return regexp.MustCompile(`<published>[^<]*</published>`).ReplaceAllStringFunc(d, once("<published>"+future.Format(time.RFC3339)+"</published>"))
			},
			"rss": func(d string) string {
				return regexp.MustCompile(`<pubDate>[^<]*</pubDate>`).ReplaceAllStringFunc(d, once("<pubDate>"+future.Format(time.RFC1123Z)+"</pubDate>"))
			},
		}, "later than the document was served"},
		"lost link": {map[string]func(string) string{
			"atom": inFirst("<entry>", `<link href="[^"]*" rel="alternate"[^>]*></link>`),
			"rss":  inFirst("<item>", `<link>[^<]*</link>`),
		}, " link: served"},
	}

	dir := t.TempDir()
	docs := map[string][]byte{} // file name: planted document
	type planted struct {
		fault, format string
		served        []servertest.Entry
	}
	plants := map[string]planted{}
	for _, format := range []string{"atom", "rss"} {
		resp := ts.get(t, "/tags/world."+format)
		body, _ := io.ReadAll(resp.Body)
		served, err := servertest.ServedEntries(format, body)
		if err != nil || len(served) < 2 {
			t.Fatalf("%s: %d entries served (%v)", format, len(served), err)
		}
		for name, f := range faults {
			bad := f.plant[format](string(body))
			if bad == string(body) {
				t.Fatalf("%s, %s: nothing planted", name, format)
			}
			file := strings.ReplaceAll(name, " ", "-") + "." + format
			docs[file] = []byte(bad)
			plants[file] = planted{name, format, served}
			if err := os.WriteFile(filepath.Join(dir, file), []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(docs[strings.TrimPrefix(r.URL.Path, "/")])
	}))
	t.Cleanup(srv.Close)

	for _, r := range servertest.Readers {
		t.Run(r.Name, func(t *testing.T) {
			var files, urls []string
			for file := range plants {
				files, urls = append(files, filepath.Join(dir, file)), append(urls, srv.URL+"/"+file)
			}
			read := map[string]servertest.Read{}
			if r.FromURLs {
				for _, u := range urls { // each alone: the planted documents share their entries
					for k, v := range servertest.ReadWithNewsboat(t, []string{u}) {
						read[strings.TrimPrefix(k, srv.URL+"/")] = v
					}
				}
			} else {
				read = r.ReadFiles(t, files)
			}
			for file, p := range plants {
				got, ok := read[file]
				if !ok {
					got = read[filepath.Join(dir, file)]
				}
				diffs := servertest.Differences(r, p.served, got, renderNow)
				if !strings.Contains(strings.Join(diffs, "\n"), faults[p.fault].want) {
					t.Errorf("%s in %s: the differences do not show it:\n%s", p.fault, p.format, strings.Join(diffs, "\n"))
				}
			}
		})
	}
}

// inFirst removes the first match of pattern after the first marker.
func inFirst(marker, pattern string) func(string) string {
	return func(d string) string {
		i := strings.Index(d, marker)
		if i < 0 {
			return d
		}
		return d[:i] + regexp.MustCompile(pattern).ReplaceAllStringFunc(d[i:], once(""))
	}
}

// once replaces the first match only.
func once(with string) func(string) string {
	done := false
	return func(m string) string {
		if done {
			return m
		}
		done = true
		return with
	}
}
