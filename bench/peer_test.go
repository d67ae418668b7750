package main

import (
	"encoding/xml"
	"os"
	"slices"
	"testing"
)

// TestFarmOPML checks that the OPML given to a peer parses back into
// every feed of the farm, once, in its tag's category, with the site URL
// escaped and restored.
func TestFarmOPML(t *testing.T) {
	f := &farm{n: 7, m: 3, tags: 3, URL: "http://127.0.0.1:1"}
	site := "http://127.0.0.1:1/?a=1&b=<2>"
	var doc struct {
		Version string `xml:"version,attr"`
		Cats    []struct {
			Text  string `xml:"text,attr"`
			Feeds []struct {
				XMLURL  string `xml:"xmlUrl,attr"`
				HTMLURL string `xml:"htmlUrl,attr"`
			} `xml:"outline"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(farmOPML(f, site), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.0" || len(doc.Cats) != f.tags {
		t.Fatalf("version %q, %d categories, want 2.0 and %d", doc.Version, len(doc.Cats), f.tags)
	}
	var urls []string
	category := map[string]string{} // feed URL -> its category
	for _, c := range doc.Cats {
		for _, feed := range c.Feeds {
			if feed.HTMLURL != site {
				t.Errorf("htmlUrl %q, want %q", feed.HTMLURL, site)
			}
			if _, twice := category[feed.XMLURL]; twice {
				t.Errorf("%s twice", feed.XMLURL)
			}
			urls = append(urls, feed.XMLURL)
			category[feed.XMLURL] = c.Text
		}
	}
	for i := range f.n {
		if c, ok := category[f.feedURL(i)]; !ok || c != f.tag(i) {
			t.Errorf("feed %d (%s): category %q, present %v, want %s", i, f.feedURL(i), c, ok, f.tag(i))
		}
	}
	if len(urls) != f.n {
		t.Errorf("%d feeds, want %d", len(urls), f.n)
	}
}

// TestParseProcStat checks the fields read from a stat line whose command
// name holds spaces and parentheses.
func TestParseProcStat(t *testing.T) {
	line := "4242 (postgres: x (y) ) S 17 4242 4242 0 -1 4194624 1066 0 0 0 250 75 30 12 20 0 1 0 1234 226762752 3584 18446744073709551615\n"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{ppid: 17, utime: 250, stime: 75, cutime: 30, cstime: 12}
	if st != want {
		t.Fatalf("got %+v, want %+v", st, want)
	}
	if got := st.cpu(); got != 3.67 {
		t.Errorf("cpu %v, want 3.67", got)
	}
	if _, err := parseProcStat("4242 postgres S 17"); err == nil {
		t.Error("a line without a command name parsed")
	}
	if _, err := parseProcStat("4242 (postgres) S 17 1 2"); err == nil {
		t.Error("a short line parsed")
	}
}

// TestProcSelf reads this process's own stat and status.
func TestProcSelf(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if st.ppid != os.Getppid() {
		t.Errorf("ppid %d, want %d", st.ppid, os.Getppid())
	}
	if statusKB(os.Getpid(), "status", "VmHWM") <= 0 {
		t.Error("no VmHWM")
	}
	if total, err := treeCPU(os.Getpid()); err != nil || total < st.cpu() {
		t.Errorf("treeCPU %v, %v: less than the process's own %v", total, err, st.cpu())
	}
}

// TestFieldKB checks reading one field of a /proc status text.
func TestFieldKB(t *testing.T) {
	text := "Name:\tx\nVmPeak:\t  2048 kB\nVmHWM:\t   1536 kB\nPss:               77 kB\n"
	for field, want := range map[string]int64{"VmHWM": 1536, "Pss": 77, "VmPeak": 2048, "Vm": 0, "RssAnon": 0} {
		if got := fieldKB(text, field); got != want {
			t.Errorf("%s: %d, want %d", field, got, want)
		}
	}
}

// TestSettings checks -peer-env's splitting and that the last setting of
// a key wins over the default.
func TestSettings(t *testing.T) {
	env := splitEnv(" WORKER_POOL_SIZE=8, ,DATABASE_MIN_CONNS=20,WORKER_POOL_SIZE=4 ")
	if want := []string{"WORKER_POOL_SIZE=8", "DATABASE_MIN_CONNS=20", "WORKER_POOL_SIZE=4"}; !slices.Equal(env, want) {
		t.Fatalf("splitEnv: %q, want %q", env, want)
	}
	if got := setting(env, "WORKER_POOL_SIZE", "16"); got != "4" {
		t.Errorf("WORKER_POOL_SIZE %q, want 4", got)
	}
	if got := setting(env, "BATCH_SIZE", "100"); got != "100" {
		t.Errorf("BATCH_SIZE %q, want the default 100", got)
	}
	if got := minifluxEnv("db", "l", env); got[len(got)-1] != "WORKER_POOL_SIZE=4" {
		t.Errorf("extra settings do not come last: %q", got)
	}
}
