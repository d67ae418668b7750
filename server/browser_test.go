package server

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// chromium returns the headless browser to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test of / and /feeds")
	return ""
}

// artifactDir is where screenshots go: $FEEDMUX_ARTIFACTS, else
// artifacts/screenshots at the top of the module (ignored by git).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("FEEDMUX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser_StatusPages loads / and /feeds in headless Chromium, checks
// that topics, links and sparklines are there, and saves screenshots at a
// desktop and a phone size.
func TestBrowser_StatusPages(t *testing.T) {
	browser := chromium(t)
	ts := newTestServer(t, hostileItems())
	// Sources in every health: one failing, one gone.
	ctx := t.Context()
	failing := feedmux.FeedState{URL: "https://down.example/rss", Title: "Down Daily", LastPoll: t0, LastStatus: 503,
		LastError: "the server answered 503 Service Unavailable", Errors: 4, NextCheck: t0.Add(2 * time.Hour)}
	gone := feedmux.FeedState{URL: "https://old.example/feed", Title: "Closed Weekly", LastPoll: t0, LastStatus: 410,
		LastError: "the feed is gone (410): not polled again until its configuration changes", Errors: 1, Gone: true}
	feeds := append(ts.feeds, feedmux.Feed{URL: failing.URL}, feedmux.Feed{URL: gone.URL})
	if err := ts.db.SyncFeeds(ctx, feeds); err != nil {
		t.Fatal(err)
	}
	for _, st := range []feedmux.FeedState{failing, gone} {
		if _, err := ts.db.SaveItems(ctx, st, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(ts.Handler())
	t.Cleanup(srv.Close)
	ts.Configure(Config{MaxAge: time.Minute})

	run := func(args ...string) []byte {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--no-first-run"}
		cmd := exec.CommandContext(cctx, browser, append(base, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}

	dir := artifactDir(t)
	for _, page := range []struct {
		name, path string
		want       []string
	}{
		{"index", "/", []string{`id="tag-world"`, `/tags/world.atom"`, `/tags/world.rss"`, `/tags.opml"`, `<svg class="spark"`, `<polyline`}},
		{"feeds", "/feeds", []string{`Down Daily`, `503 Service Unavailable`, `Closed Weekly`, `class="feed failing"`, `class="feed gone"`, `<svg class="spark"`}},
	} {
		dom := string(run("--dump-dom", srv.URL+page.path))
		for _, w := range page.want {
			if !strings.Contains(dom, w) {
				t.Errorf("%s as Chromium renders it lacks %s", page.path, w)
			}
		}
		for _, size := range [][2]int{{1280, 800}, {390, 844}} {
			file, err := filepath.Abs(filepath.Join(dir, page.name+"-"+strconv.Itoa(size[0])+"x"+strconv.Itoa(size[1])+".png"))
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(file)
			run("--window-size="+strconv.Itoa(size[0])+","+strconv.Itoa(size[1]), "--screenshot="+file, srv.URL+page.path)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("no screenshot of %s: %v", page.path, err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("screenshot of %s: %v", page.path, err)
			}
			if b := img.Bounds(); b.Dx() != size[0] || b.Dy() != size[1] {
				t.Errorf("screenshot of %s is %dx%d, want %dx%d", page.path, b.Dx(), b.Dy(), size[0], size[1])
			}
			if n := colours(img); n < 8 {
				t.Errorf("screenshot of %s at %v has %d colours: a blank page", page.path, size, n)
			}
			t.Logf("screenshot: %s", file)
		}
	}
}

// colours counts the distinct colours of an image, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
