package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// growingFarm serves feeds that gain an item at each request until frozen,
// and records when each feed was asked for.
type growingFarm struct {
	*httptest.Server
	frozen atomic.Bool
	// slow makes each answer take a while, as a distant source's does,
	// so that polls of one host overlap; inFlight and maxInFlight count
	// the requests being answered at once.
	slow                  time.Duration
	inFlight, maxInFlight atomic.Int32
	mu                    sync.Mutex
	served                map[string]int         // items in the last document of each feed
	asked                 map[string][]time.Time // the requests of each feed
}

func newGrowingFarm(t *testing.T) *growingFarm {
	f := &growingFarm{served: map[string]int{}, asked: map[string][]time.Time{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for m := f.maxInFlight.Load(); busy > m && !f.maxInFlight.CompareAndSwap(m, busy); m = f.maxInFlight.Load() {
		}
		if f.slow > 0 {
			time.Sleep(f.slow) // a source that takes its time: not a wait for anything
		}
		f.mu.Lock()
		n := f.served[r.URL.Path]
		if !f.frozen.Load() {
			n++
			f.served[r.URL.Path] = n
		}
		f.asked[r.URL.Path] = append(f.asked[r.URL.Path], time.Now())
		f.mu.Unlock()
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>%s</title>`, r.URL.Path)
		for i := range n {
			fmt.Fprintf(w, "<item><title>%s report %d</title><link>https://s.example%s/%d</link></item>", r.URL.Path, i, r.URL.Path, i)
		}
		fmt.Fprint(w, "</channel></rss>")
	}))
	t.Cleanup(f.Close)
	return f
}

// TestShared_Instances: three feedmux processes on one PostgreSQL
// database share the polling of growing feeds: no feed is polled twice
// within its interval, every item is stored once, each serves the same
// tag feed once the sources stop, and after one stops the others poll
// its share.
func TestShared_Instances(t *testing.T) {
	dbURL := pgtest.URL(t)
	farm := newGrowingFarm(t)
	farm.slow = 20 * time.Millisecond
	const feeds = 30
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = %q\n[poll]\ninterval = \"1s\"\nmin_interval = \"1s\"\ntimeout = \"5s\"\n", dbURL)
	for i := range feeds {
		fmt.Fprintf(&b, "[[feed]]\nurl = %q\ntags = [\"t1\"]\n", farm.URL+"/f"+strconv.Itoa(i))
	}
	config := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var mains []*Main
	for _, name := range []string{"a", "b", "c"} {
		mains = append(mains, startMain(t, config, filepath.Join(t.TempDir(), "unused.db"), func(m *Main) { m.Instance = name }))
	}
	polls := func() int {
		farm.mu.Lock()
		defer farm.mu.Unlock()
		n := 0
		for _, a := range farm.asked {
			n += len(a)
		}
		return n
	}
	waitFor(t, "every feed polled about 4 times", func() bool { return polls() >= 4*feeds })
	mains[0].Close() // one process stops: the others poll its share
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var held int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM feeds WHERE claimed_by = 'a'`).Scan(&held); err != nil || held != 0 {
		t.Errorf("%d claims (%v) of the stopped process left: a stopping process releases its claims", held, err)
	}
	stopped := polls()
	waitFor(t, "polls after one process stopped", func() bool { return polls() >= stopped+2*feeds })
	farm.frozen.Store(true)

	// Every item once, whichever process polled it.
	want := 0
	waitFor(t, "every served item stored", func() bool {
		farm.mu.Lock()
		want = 0
		for _, n := range farm.served {
			want += n
		}
		farm.mu.Unlock()
		n, err := mains[1].DB.ItemCount(t.Context())
		return err == nil && n == want
	})
	// No feed polled twice within its interval by two processes.
	farm.mu.Lock()
	for path, asked := range farm.asked {
		for i := 1; i < len(asked); i++ {
			if gap := asked[i].Sub(asked[i-1]); gap < 500*time.Millisecond {
				t.Errorf("%s polled twice %v apart (interval 1s): two processes polled it", path, gap)
			}
		}
	}
	farm.mu.Unlock()
	// The per-host limit (2) holds in all processes together: the farm
	// is one host.
	if n := farm.maxInFlight.Load(); n > 2 {
		t.Errorf("%d requests to the one host at once from three processes, want at most per_host = 2", n)
	}
	// /feeds.json says which process polled each feed last.
	_, page := get(t, "http://"+mains[1].Server.Addr().String()+"/feeds.json")
	var status struct {
		Feeds []struct {
			URL      string `json:"url"`
			PolledBy string `json:"polled_by"`
		} `json:"feeds"`
	}
	if err := json.Unmarshal(page, &status); err != nil {
		t.Fatal(err)
	}
	for _, f := range status.Feeds {
		if f.PolledBy != "a" && f.PolledBy != "b" && f.PolledBy != "c" {
			t.Errorf("/feeds.json: %s polled by %q, want one of the processes", f.URL, f.PolledBy)
		}
	}
	// One process leads each role, and it is one that still runs.
	for _, role := range []string{roleGrouping, roleUpkeep, roleDeliveries} {
		waitFor(t, "one leader of "+role, func() bool {
			leaders := 0.0
			for _, m := range mains[1:] {
				_, page := get(t, "http://"+m.Server.Addr().String()+"/metrics")
				v, _ := metricValue(t, page, "feedmux_leading", map[string]string{"role": role, "instance": m.Instance})
				leaders += v
			}
			return leaders == 1
		})
	}
	// The same tag feed from each running process.
	waitFor(t, "the same /tags/t1.atom from each process", func() bool {
		var first []string
		for i, m := range mains[1:] {
			ids := atomIDs(t, "http://"+m.Server.Addr().String()+"/tags/t1.atom?limit=500")
			if i == 0 {
				first = ids
			} else if !slices.Equal(ids, first) {
				return false
			}
		}
		return len(first) == min(want, 500)
	})
}

// atomIDs are the entry ids of an Atom document at url.
func atomIDs(t *testing.T, url string) []string {
	t.Helper()
	_, body := get(t, url)
	var doc struct {
		Entries []struct {
			ID string `xml:"id"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	ids := make([]string, len(doc.Entries))
	for i, e := range doc.Entries {
		ids[i] = e.ID
	}
	return ids
}

// TestShared_SIGKILL: three feedmux serve processes on one PostgreSQL
// database poll 300 growing feeds together; one is SIGKILLed, and the
// others poll its share (the time until every feed was polled again is
// logged); every item is stored once, no feed is polled twice within half
// its interval, and the survivors serve the same tag feed.
func TestShared_SIGKILL(t *testing.T) {
	dbURL := pgtest.URL(t)
	farm := newGrowingFarm(t)
	farm.slow = 20 * time.Millisecond
	const feeds = 300
	var b strings.Builder
	b.WriteString("[poll]\ninterval = \"2s\"\nmin_interval = \"1s\"\ntimeout = \"5s\"\nconcurrency = 8\nper_host = 8\n")
	for i := range feeds {
		fmt.Fprintf(&b, "[[feed]]\nurl = %q\ntags = [\"t1\"]\n", farm.URL+"/f"+strconv.Itoa(i))
	}
	config := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	var addrs []string
	var procs []*exec.Cmd
	for range 3 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "-config", config, "-db", filepath.Join(t.TempDir(), "unused.db"), "-listen", addr, "-log-level", "error")
		cmd.Env = append(os.Environ(), "FEEDMUX_DB_URL="+dbURL)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
		addrs, procs = append(addrs, addr), append(procs, cmd)
	}
	polls := func(since time.Time) (total, feedsPolled int) {
		farm.mu.Lock()
		defer farm.mu.Unlock()
		for _, asked := range farm.asked {
			total += len(asked)
			if len(asked) > 0 && asked[len(asked)-1].After(since) {
				feedsPolled++
			}
		}
		return total, feedsPolled
	}
	waitFor(t, "every feed polled about 3 times", func() bool { n, _ := polls(time.Time{}); return n >= 3*feeds })
	procs[0].Process.Signal(syscall.SIGKILL)
	procs[0].Wait()
	killed := time.Now()
	waitFor(t, "every feed polled after the kill", func() bool { _, n := polls(killed); return n == feeds })
	t.Logf("every feed was polled again %v after one of three processes was SIGKILLed (interval 2s, fetch timeout 5s)", time.Since(killed).Round(time.Millisecond))
	farm.frozen.Store(true)

	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := 0
	waitFor(t, "every served item stored", func() bool {
		farm.mu.Lock()
		want = 0
		for _, n := range farm.served {
			want += n
		}
		farm.mu.Unlock()
		n, err := db.ItemCount(t.Context())
		return err == nil && n == want
	})
	farm.mu.Lock()
	for path, asked := range farm.asked {
		for i := 1; i < len(asked); i++ {
			if gap := asked[i].Sub(asked[i-1]); gap < time.Second {
				t.Errorf("%s polled twice %v apart (interval 2s): two processes polled it", path, gap)
			}
		}
	}
	farm.mu.Unlock()
	for _, view := range []string{"items", "stories"} {
		waitFor(t, "the same /tags/t1.atom?view="+view+" from both survivors", func() bool {
			a := atomIDs(t, "http://"+addrs[1]+"/tags/t1.atom?limit=100&view="+view)
			b := atomIDs(t, "http://"+addrs[2]+"/tags/t1.atom?limit=100&view="+view)
			return len(a) > 0 && slices.Equal(a, b)
		})
	}
}
