package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReload edits feeds.toml under a running daemon while a client polls
// /tags/x.atom: feeds are added and removed, a broken edit changes
// nothing, and not one request fails.
func TestReload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title><link>https://%[1]s.example/</link><description>d</description>
<item><title>Item of %[1]s</title><link>https://%[1]s.example/1</link><pubDate>Tue, 26 Mar 2024 10:00:00 +0000</pubDate></item></channel></rss>`, name)
	}))
	t.Cleanup(srv.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	write := func(names ...string) {
		t.Helper()
		var b strings.Builder
		b.WriteString("[server]\nlisten = \"127.0.0.1:0\"\n")
		for _, n := range names {
			fmt.Fprintf(&b, "\n[[feed]]\nurl = %q\ntags = [\"x\"]\n", srv.URL+"/"+n)
		}
		// Write and rename, as editors do, so the watcher never reads half a file.
		tmp := config + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, config); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "b")
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	base := "http://" + m.Server.Addr().String()

	var (
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		requests atomic.Int64
		failures atomic.Int64
		firstErr atomic.Value
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(base + "/tags/x.atom")
				requests.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint(err, resp))
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	sources := func() []string {
		_, body := get(t, base+"/feeds.json")
		var doc struct {
			Feeds []struct {
				URL string `json:"url"`
			} `json:"feeds"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range doc.Feeds {
			names = append(names, strings.TrimPrefix(f.URL, srv.URL+"/"))
		}
		slices.Sort(names)
		return names
	}
	entries := func() int {
		_, body := get(t, base+"/tags/x.atom")
		return strings.Count(string(body), "<entry>")
	}

	write("b", "c") // a removed, c added
	waitFor(t, "feeds b and c after the edit", func() bool {
		return slices.Equal(sources(), []string{"b", "c"}) && entries() == 3
	})

	// An invalid edit: the running configuration stays.
	if err := os.WriteFile(config, []byte("[[feed]]\nurl = \"ftp://nope\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err == nil {
		t.Error("a broken configuration was applied")
	}
	if got := sources(); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after a broken edit the feeds are %v, want b and c still", got)
	}

	write("c")
	waitFor(t, "feed c alone after the last edit", func() bool {
		return slices.Equal(sources(), []string{"c"})
	})
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", n, requests.Load(), firstErr.Load())
	}
	t.Logf("%d requests during reloads, none failed", requests.Load())
}

// TestRetention_KeepsPublishingSource: with max_items_per_feed = 10, a
// source that keeps publishing never has more than 10 items stored, and
// the removed ones never come back though the source still lists them.
func TestRetention_KeepsPublishingSource(t *testing.T) {
	var published atomic.Int64
	published.Store(12)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(published.Load())
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Busy</title><link>https://busy.example/</link><description>d</description>`)
		for i := n; i > max(0, n-20); i-- { // the 20 newest
			fmt.Fprintf(w, `<item><title>Story %[1]d</title><link>https://busy.example/%[1]d</link><pubDate>%[2]s</pubDate></item>`,
				i, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	doc := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\nrender_interval = \"0s\"\n[storage]\nmax_items_per_feed = 10\n[[feed]]\nurl = %q\ntags = [\"busy\"]\n", srv.URL+"/busy")
	if err := os.WriteFile(config, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	feed := m.Config.FeedList()[0]
	seen := map[string]bool{}
	for poll := range 8 {
		if poll > 0 {
			published.Add(7)
			if _, err := m.Poller.Poll(t.Context(), feed); err != nil {
				t.Fatal(err)
			}
		}
		_, body := get(t, "http://"+m.Server.Addr().String()+"/tags/busy.json?limit=500")
		var j struct {
			Items []struct {
				Title string `json:"title"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		if len(j.Items) != 10 {
			t.Errorf("poll %d: %d items stored, want the 10 newest", poll, len(j.Items))
		}
		now := map[string]bool{}
		for _, it := range j.Items {
			now[it.Title] = true
		}
		for title := range seen {
			if !now[title] {
				seen[title] = false // removed
			}
		}
		for title := range now {
			if removed, ok := seen[title]; ok && !removed {
				t.Errorf("poll %d: %q was removed and came back", poll, title)
			}
			seen[title] = true
		}
	}
}
