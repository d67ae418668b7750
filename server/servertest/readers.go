package servertest

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // newsboat's cache is SQLite
)

// Entry is one entry of a feed as a reader shows it.
type Entry struct {
	Title     string `json:"title"`
	Link      string `json:"link"`
	ID        string `json:"id"`
	Published string `json:"published"` // RFC 3339 in UTC, or ""
	Updated   string `json:"updated"`
	Author    string `json:"author"` // the author's name
	Source    string `json:"source"` // the title of the source it names, or ""
	// Enclosure is the URL of the first enclosure, as served (readers'
	// views leave it empty).
	Enclosure string `json:"-"`
}

// Read is what a reader made of one document: its entries, or why it
// could not read it.
type Read struct {
	Entries []Entry `json:"entries"`
	Error   string  `json:"error"`
}

// readersDir is where the readers' programs and their pinned packages
// are: server/servertest/readers.
func readersDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "readers")
}

// ReadWithNode reads each file with a Node.js library, "rss-parser" or
// "feedparser", at the version readers/package-lock.json pins. It skips
// the test, saying what is missing, without Node.js or the packages.
func ReadWithNode(tb testing.TB, library string, files []string) map[string]Read {
	tb.Helper()
	dir := readersDir()
	if _, err := exec.LookPath("node"); err != nil {
		tb.Skip("node is not installed: the interoperability test reads with Node.js feed libraries")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", library)); err != nil {
		tb.Skipf("the %s package is not installed: run npm ci --prefix %s", library, dir)
	}
	return runReader(tb, exec.Command("node", append([]string{filepath.Join(dir, "read.js"), library}, files...)...))
}

// romeClasspath is Debian's librome-java and what it needs.
var romeClasspath = []string{"/usr/share/java/rome.jar", "/usr/share/java/rome-utils.jar", "/usr/share/java/jdom2.jar", "/usr/share/java/slf4j-api.jar"}

// ReadWithROME reads each file with ROME, the Java library many readers
// use, as Debian's librome-java packages it. It compiles readers/Read.java
// first. It skips the test, saying what is missing, without a JDK or the
// package.
func ReadWithROME(tb testing.TB, files []string) map[string]Read {
	tb.Helper()
	for _, tool := range []string{"javac", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (apt-get install -y default-jdk-headless): the interoperability test reads with ROME", tool)
		}
	}
	for _, jar := range romeClasspath {
		if _, err := os.Stat(jar); err != nil {
			tb.Skipf("%s is missing (apt-get install -y librome-java)", jar)
		}
	}
	classes := tb.TempDir()
	cp := strings.Join(romeClasspath, ":")
	if out, err := exec.Command("javac", "-cp", cp, "-d", classes, filepath.Join(readersDir(), "Read.java")).CombinedOutput(); err != nil {
		tb.Fatalf("javac Read.java: %v\n%s", err, out)
	}
	return runReader(tb, exec.Command("java", append([]string{"-cp", cp + ":" + classes, "Read"}, files...)...))
}

func runReader(tb testing.TB, cmd *exec.Cmd) map[string]Read {
	tb.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", cmd.Args[0], err, stderr.String())
	}
	var res map[string]Read
	if err := json.Unmarshal(out, &res); err != nil {
		tb.Fatalf("%s printed %.300q: %v", cmd.Args[0], out, err)
	}
	return res
}

// ReadWithNewsboat subscribes newsboat to the feed URLs, has it fetch
// them all once (newsboat -x reload), and returns what it stored of each
// feed's entries, from its cache. It skips the test, saying what is
// missing, without newsboat.
func ReadWithNewsboat(tb testing.TB, urls []string) map[string]Read {
	tb.Helper()
	if _, err := exec.LookPath("newsboat"); err != nil {
		tb.Skip("newsboat is not installed (apt-get install -y newsboat): the interoperability test reads with it")
	}
	dir := tb.TempDir()
	list, cache, config := filepath.Join(dir, "urls"), filepath.Join(dir, "cache.db"), filepath.Join(dir, "config")
	if err := os.WriteFile(list, []byte(strings.Join(urls, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("reload-threads 4\ndownload-timeout 60\nmax-items 0\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // only stops a hung newsboat
	defer cancel()
	cmd := exec.CommandContext(ctx, "newsboat", "-u", list, "-c", cache, "-C", config, "-x", "reload")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("newsboat -x reload: %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite", "file:"+cache+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT feedurl, guid, title, author, url, pubDate FROM rss_item ORDER BY feedurl, id`)
	if err != nil {
		tb.Fatalf("newsboat's cache: %v", err)
	}
	defer rows.Close()
	res := map[string]Read{}
	for rows.Next() {
		var feedURL string
		var e Entry
		var pub int64
		if err := rows.Scan(&feedURL, &e.ID, &e.Title, &e.Author, &e.Link, &pub); err != nil {
			tb.Fatal(err)
		}
		if pub > 0 {
			e.Published = time.Unix(pub, 0).UTC().Format(time.RFC3339)
		}
		r := res[feedURL]
		r.Entries = append(r.Entries, e)
		res[feedURL] = r
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return res
}
