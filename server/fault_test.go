package server

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestServer_WriteFault: while the database cannot be written, /readyz
// answers 503 with the reason, / and /feeds show it once as a banner
// (the sources are not made out to be failing), /feeds.json and /metrics
// say it; once a write succeeds, all of it is gone.
func TestServer_WriteFault(t *testing.T) {
	ts := newTestServer(t, hostileItems())
	ts.Metrics = NewMetrics(ts.db)
	body := func(target string) (int, string) {
		t.Helper()
		resp := ts.get(t, target)
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const banner = `class="fault"`
	if code, b := body("/readyz"); code != 200 {
		t.Fatalf("/readyz before the fault: %d %s", code, b)
	}

	// No room to grow: SQLite holds a limit below the database's pages at
	// its pages. (Size would count the write-ahead log too, and leave room.)
	if err := ts.db.SetMaxSize(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	var big []feedmux.Item
	for i := range 100 {
		it := hostileItems()[0]
		it.Key, it.GUID, it.URL = fmt.Sprint("big-", i), fmt.Sprint("big-", i), fmt.Sprint("https://a.example/big/", i)
		it.Content = strings.Repeat("<p>A long paragraph of the report.</p>", 100)
		big = append(big, it)
	}
	st := feedmux.FeedState{URL: ts.feeds[0].URL, LastPoll: t0}
	if _, err := ts.db.SaveItems(t.Context(), st, big); err == nil {
		t.Fatal("a save beyond the size limit succeeded")
	}

	if code, b := body("/readyz"); code != 503 || !strings.Contains(b, "cannot be written") || !strings.Contains(b, "full") {
		t.Errorf("/readyz during the fault: %d %q, want 503 with the reason", code, b)
	}
	for _, page := range []string{"/", "/feeds"} {
		if code, b := body(page); code != 200 || strings.Count(b, banner) != 1 || !strings.Contains(b, "Nothing new is being stored") {
			t.Errorf("%s during the fault: %d, %d banners; want one", page, code, strings.Count(b, banner))
		}
	}
	if _, b := body("/feeds"); strings.Contains(b, `class="feed failing"`) {
		t.Errorf("/feeds during the fault shows sources failing: the fault is the machine's")
	}
	if _, b := body("/feeds.json"); !strings.Contains(b, `"writable": false`) {
		t.Errorf("/feeds.json during the fault does not say the database is not writable:\n%.400s", b)
	}
	if _, b := body("/metrics"); !strings.Contains(b, "feedmux_database_write_failing 1") || !strings.Contains(b, "feedmux_database_write_failures_total 1") {
		t.Errorf("/metrics during the fault lacks the gauge and the count")
	}

	if err := ts.db.SetMaxSize(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	st.LastPoll = t0.Add(time.Minute)
	if _, err := ts.db.SaveItems(t.Context(), st, big); err != nil {
		t.Fatal(err)
	}
	if code, b := body("/readyz"); code != 200 {
		t.Errorf("/readyz after the fault: %d %q", code, b)
	}
	for _, page := range []string{"/", "/feeds"} {
		if _, b := body(page); strings.Contains(b, banner) {
			t.Errorf("%s still shows the banner once writes succeed", page)
		}
	}
	if _, b := body("/metrics"); !strings.Contains(b, "feedmux_database_write_failing 0") {
		t.Errorf("/metrics after the fault: the gauge is not 0")
	}
}
