package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// TestCrash_SIGKILL runs the real binary on a loopback farm and kills it
// with SIGKILL at random moments of the ingest, at least ten times,
// restarting it each time. After every kill the database passes SQLite's
// integrity check, holds no item twice, and still holds every item an
// output feed showed before the kill; in the end ingestion finishes.
func TestCrash_SIGKILL(t *testing.T) {
	const feeds, items, kills = 600, 30, 12
	var requests atomic.Int64
	reached := make(chan struct{}, 1)
	var threshold atomic.Int64
	threshold.Store(1 << 62)
	farm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := requests.Add(1); n >= threshold.Load() {
			select {
			case reached <- struct{}{}:
			default:
			}
		}
		var i int
		fmt.Sscanf(r.URL.Path, "/f/%d", &i)
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>https://f%d.example/</link><description>d</description>`, i, i)
		for k := range items {
			fmt.Fprintf(w, `<item><title>Feed %d story %d about the %s</title><link>https://f%d.example/%d</link><pubDate>%s</pubDate><description>%s</description></item>`,
				i, k, strings.Repeat("matter ", k%7+1), i, k, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*items+k)*time.Minute).Format(time.RFC1123Z),
				strings.Repeat("<p>Body text of the story. </p>", 10))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(farm.Close)

	dir := t.TempDir()
	config := filepath.Join(dir, "feeds.toml")
	var cfg strings.Builder
	cfg.WriteString("[poll]\ninterval = \"1h\"\nconcurrency = 8\nper_host = 8\n")
	for i := range feeds {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = \"%s/f/%d\"\ntags = [\"t%d\"]\n", farm.URL, i, i%10)
	}
	if err := os.WriteFile(config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "feedmux.db")
	bin := buildBinary(t)
	rng := rand.New(rand.NewPCG(42, 7))
	shown := map[string]bool{} // ids an output feed showed
	var addr string

	start := func() *exec.Cmd {
		t.Helper()
		addr = freeAddr(t)
		cmd := exec.Command(bin, "serve", "-config", config, "-db", dbPath, "-listen", addr, "-log-level", "error")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// showAll reads the items /all.json shows, following next_url for
	// up to pages pages (0: all).
	showAll := func(pages int) (ids []string, ok bool) {
		next := "http://" + addr + "/all.json?limit=500"
		for page := 0; next != "" && (pages == 0 || page < pages); page++ {
			resp, err := http.Get(next)
			if err != nil {
				return ids, false // not listening yet, or killed
			}
			var doc struct {
				NextURL string `json:"next_url"`
				Items   []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return ids, false
			}
			for _, it := range doc.Items {
				ids = append(ids, it.ID)
			}
			next = doc.NextURL
		}
		return ids, true
	}
	check := func(after string) {
		t.Helper()
		db, err := sqlite.Open(t.Context(), dbPath)
		if err != nil {
			t.Fatalf("%s: open: %v", after, err)
		}
		defer db.Close()
		if err := db.IntegrityCheck(t.Context()); err != nil {
			t.Fatalf("%s: %v", after, err)
		}
		all, err := db.Items(t.Context(), feedmux.ItemFilter{Limit: feeds * items * 2})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for i := range all {
			id := all[i].ID()
			if have[id] {
				t.Fatalf("%s: item %s stored twice", after, id)
			}
			have[id] = true
		}
		if n, _ := db.ItemCount(t.Context()); n != len(all) {
			t.Fatalf("%s: %d item rows for %d distinct items", after, n, len(all))
		}
		for id := range shown {
			if !have[id] {
				t.Fatalf("%s: item %s was shown before the kill and is gone", after, id)
			}
		}
	}

	wait := func(what string, cmd *exec.Cmd, more int) {
		t.Helper()
		threshold.Store(requests.Load() + int64(more))
		select {
		case <-reached:
		case <-time.After(patience):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: the farm saw no requests for %s", what, patience)
		}
	}
	killed := 0
	for killed < kills {
		cmd := start()
		// Read what the feeds show, then kill at a random moment a few
		// feed requests later, right as the farm answers.
		wait(fmt.Sprintf("run %d", killed+1), cmd, 2+rng.IntN(6))
		if ids, ok := showAll(1); ok {
			for _, id := range ids {
				shown[id] = true
			}
		}
		wait(fmt.Sprintf("run %d", killed+1), cmd, 1+rng.IntN(6))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		killed++
		check(fmt.Sprintf("after kill %d", killed))
		select { // a signal sent after the kill
		case <-reached:
		default:
		}
	}

	// The last run is left alone: ingestion must finish.
	cmd := start()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	waitFor(t, "every item ingested after the kills", func() bool {
		ids, ok := showAll(0)
		return ok && len(ids) == feeds*items
	})
	// Grouping catches up on its own, restarts included: nothing waits.
	waitFor(t, "every item grouped after the kills", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		n, ok := metricValue(t, body, "feedmux_stories_waiting", nil)
		return ok && n == 0
	})
	ids, _ := showAll(0)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("/all.json shows %s twice", id)
		}
		seen[id] = true
	}
	for id := range shown {
		if !seen[id] {
			t.Errorf("item %s shown before a kill is missing at the end", id)
		}
	}
	t.Logf("%d kills with SIGKILL, %d items shown before kills kept, %d items at the end, %d feed requests", killed, len(shown), len(ids), requests.Load())
}
