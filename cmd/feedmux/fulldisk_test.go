package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServe_FullDisk runs the daemon with its database on a small tmpfs,
// fills the file system while the sources grow, and frees it again. While
// nothing can be written, /readyz says so with a 503, / and /feeds show one
// banner, /metrics counts storage errors, and no source's error count
// grows; once there is space, every item the sources hold is stored,
// once, and the database is intact.
func TestServe_FullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; run the tests as root (CI does) to fill a real file system")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		// Root in a container without CAP_SYS_ADMIN: the machine, not the code.
		t.Skipf("mounting a 16 MiB tmpfs failed, so there is no small file system to fill (root with CAP_SYS_ADMIN is needed): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	const feeds = 20
	src := newGrowingFeeds(t, feeds, 5)
	var cfg strings.Builder
	cfg.WriteString("[server]\nlisten = \"127.0.0.1:0\"\n\n[poll]\ninterval = \"1s\"\nmin_interval = \"1s\"\nconcurrency = 4\n")
	for i := range feeds {
		fmt.Fprintf(&cfg, "\n[[feed]]\nurl = \"%s/%d\"\ntags = [\"x\"]\n", src.URL, i)
	}
	config := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(mnt, "feedmux.db")
	m := startMain(t, config, dbPath, func(m *Main) { m.StorageRetry = 200 * time.Millisecond })
	base := "http://" + m.Server.Addr().String()
	allStored := func(want int) func() bool {
		return func() bool {
			states, err := m.DB.FeedStates(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range states {
				if st.Items != want {
					return false
				}
			}
			return len(states) == feeds
		}
	}
	waitFor(t, "the first items stored", allStored(5))

	filler := fillDisk(t, mnt)
	src.grow(40) // 160 KB per feed: far more than is left
	waitFor(t, "the database to fail to take a write", func() bool { return m.DB.WriteHealth().Err != nil })
	waitFor(t, "a few trial polls", func() bool {
		_, b := get(t, base+"/metrics")
		n, _ := metricValue(t, b, "feedmux_polls_total", map[string]string{"result": "error", "error_kind": "storage"})
		return n >= 3
	})

	resp, body := get(t, base+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(string(body), "full") {
		t.Errorf("/readyz on a full disk: %d %q, want 503 naming the full disk", resp.StatusCode, body)
	}
	for _, page := range []string{"/", "/feeds"} {
		_, b := get(t, base+page)
		if n := strings.Count(string(b), `class="fault"`); n != 1 {
			t.Errorf("%s on a full disk: %d banners, want one", page, n)
		}
	}
	_, metrics := get(t, base+"/metrics")
	if v, _ := metricValue(t, metrics, "feedmux_database_write_failing", nil); v != 1 {
		t.Errorf("/metrics on a full disk: feedmux_database_write_failing is not 1")
	}
	states, err := m.DB.FeedStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Errors != 0 || st.LastError != "" {
			t.Errorf("%s on a full disk: %d errors (%q); a full disk is not the source's fault", st.URL, st.Errors, st.LastError)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every item stored once the disk has space", allStored(45))
	waitFor(t, "/readyz to answer 200 again", func() bool {
		resp, _ := get(t, base+"/readyz")
		return resp.StatusCode == 200
	})
	if _, b := get(t, base+"/feeds"); strings.Contains(string(b), `class="fault"`) {
		t.Error("/feeds still shows the banner once writes succeed")
	}
	if err := m.DB.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
	if n, err := m.DB.ItemCount(t.Context()); err != nil || n != feeds*45 {
		t.Errorf("%d items stored (%v), want %d: each once", n, err, feeds*45)
	}
}

// fillDisk writes a file in dir until the file system is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			return path
		}
	}
}

// growingFeeds serves n RSS feeds at /0 … /n-1 that keep every item they
// ever published, about 4 KB each, with an ETag.
type growingFeeds struct {
	*httptest.Server
	mu    sync.Mutex
	count []int
}

func newGrowingFeeds(t *testing.T, n, items int) *growingFeeds {
	g := &growingFeeds{count: make([]int, n)}
	for i := range g.count {
		g.count[i] = items
	}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		g.mu.Lock()
		count := g.count[i]
		g.mu.Unlock()
		etag := `"` + strconv.Itoa(count) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Source %d</title><link>http://s%d.test/</link><description>d</description>`, i, i)
		for k := range count {
			fmt.Fprintf(w, `<item><title>Report %d of source %d</title><link>http://s%d.test/%d</link><description>%s</description></item>`,
				k, i, i, k, strings.Repeat("Words of the report. ", 200))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *growingFeeds) grow(k int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.count {
		g.count[i] += k
	}
}
