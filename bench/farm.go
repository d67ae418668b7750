package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// farm serves n loopback feeds of m items each, in RSS, Atom and JSON Feed
// by turns, with ETag and Last-Modified, and can grow one item per feed.
type farm struct {
	n, m int
	// headlines, when set, is the number of distinct headlines all items
	// share, a number in each: one wire story syndicated by every site.
	headlines int
	tags      int // feed i carries tag t{i % tags}
	epoch     time.Time

	// never304, once set (GET /control/never-304), makes the farm ignore
	// validators: every poll downloads the whole body, as from a source
	// that sends none.
	never304 atomic.Bool

	// feedGets counts the requests for a feed, 304s included; otherGets
	// the requests for anything else (a peer's icon discovery, say).
	feedGets, otherGets atomic.Int64

	mu    sync.RWMutex
	extra map[int]int // items added to a feed since the start
	first map[int]int // extra of the first document served of a feed: older items were never seen
	cache map[int]*farmDoc
	srv   *http.Server
	URL   string
}

type farmDoc struct {
	extra int
	body  []byte
	etag  string
	mod   string
	ctype string
}

func newFarm(n, m int) (*farm, error) {
	f := &farm{n: n, m: m, tags: max(1, n/10), epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		cache: map[int]*farmDoc{}, extra: map[int]int{}, first: map[int]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.URL = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: f}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *farm) close() { f.srv.Close() }

// grow adds one item to every feed i with i % groups == group: sources
// publish at different moments, not all at once.
func (f *farm) grow(group, groups int) {
	f.mu.Lock()
	for i := group; i < f.n; i += groups {
		f.extra[i]++
		delete(f.cache, i)
	}
	f.mu.Unlock()
}

// published is the number of items of feed i that some document served
// so far held: those a poller can have seen. The oldest items of a feed
// that grew before its first poll scrolled out of its document unseen.
func (f *farm) published(i int) int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	first, served := f.first[i]
	if !served {
		return 0
	}
	return f.m + f.extra[i] - first
}

// feedURL is feed i's URL.
func (f *farm) feedURL(i int) string {
	return f.URL + "/f/" + strconv.Itoa(i) + "." + [...]string{"rss", "atom", "json"}[i%3]
}

func (f *farm) tag(i int) string { return "t" + strconv.Itoa(i%f.tags) }

func (f *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/control/never-304" {
		f.never304.Store(true)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/f/")
	dot := strings.IndexByte(name, '.')
	i, err := strconv.Atoi(name[:max(dot, 0)])
	if dot < 0 || err != nil || i < 0 || i >= f.n {
		f.otherGets.Add(1)
		http.NotFound(w, r)
		return
	}
	f.feedGets.Add(1)
	doc := f.doc(i)
	h := w.Header()
	h.Set("ETag", doc.etag)
	h.Set("Last-Modified", doc.mod)
	if !f.never304.Load() && (r.Header.Get("If-None-Match") == doc.etag || r.Header.Get("If-Modified-Since") == doc.mod) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.mu.Lock()
	if _, ok := f.first[i]; !ok {
		f.first[i] = doc.extra
	}
	f.mu.Unlock()
	h.Set("Content-Type", doc.ctype)
	h.Set("Content-Length", strconv.Itoa(len(doc.body)))
	w.Write(doc.body)
}

func (f *farm) doc(i int) *farmDoc {
	f.mu.RLock()
	d, extra := f.cache[i], f.extra[i]
	f.mu.RUnlock()
	if d != nil {
		return d
	}
	d = f.render(i, extra)
	f.mu.Lock()
	if f.extra[i] == extra {
		f.cache[i] = d
	}
	f.mu.Unlock()
	return d
}

// benchItem is one generated item.
type benchItem struct {
	n          int // its number in the feed; higher is newer
	title, url string
	published  time.Time
	body       string
	cats       []string
}

var words = strings.Fields(`government minister talks economy market energy election court health climate
	security border trade technology research police storm council budget strike water school hospital
	agreement protest summit ceasefire aid report study vaccine launch satellite bank inflation rate`)

func (f *farm) items(i, extra int) []benchItem {
	total := f.m + extra
	out := make([]benchItem, 0, f.m)
	for k := total - 1; k >= total-f.m; k-- { // newest first
		w := func(j int) string { return words[(i*7+k*13+j*31)%len(words)] }
		// Two names from a large made-up vocabulary, as real headlines
		// carry rare words (people, places, products).
		title := fmt.Sprintf("%s %s %s in %s as %s %s %s", name(i*31+k*17), w(1), w(2), name(i*7+k*101+3), w(4), w(5), w(6))
		if f.headlines > 0 {
			h := (i + k) % f.headlines
			title = fmt.Sprintf("%s %s %s in %s as %s %d", name(h), words[h%len(words)], words[(h+5)%len(words)], name(h+1000), words[(h+9)%len(words)], k)
		}
		var b strings.Builder
		for p := range 4 {
			fmt.Fprintf(&b, `<p>%s %s %s, <a href="https://source%d.example/ref/%d">%s</a> %s %s %s %s %s %s %s %s %s.</p>`,
				w(p), w(p+1), w(p+2), i, k, w(p+3), w(p+4), w(p+5), w(p+6), w(p+7), w(p+8), w(p+9), w(p+10), w(p+11), w(p+12))
			b.WriteString("<p>" + strings.Repeat(w(p+13)+" ", 12) + "</p>")
		}
		out = append(out, benchItem{
			n: k, title: title, url: fmt.Sprintf("https://source%d.example/news/%d", i, k),
			published: f.epoch.Add(time.Duration(k)*time.Hour + time.Duration(i)*time.Second),
			body:      b.String(), cats: []string{w(20), w(21)},
		})
	}
	return out
}

func (f *farm) render(i, extra int) *farmDoc {
	items := f.items(i, extra)
	var b strings.Builder
	d := &farmDoc{extra: extra, mod: items[0].published.Format(http.TimeFormat)}
	esc := html.EscapeString
	switch i % 3 {
	case 0:
		d.ctype = "application/rss+xml"
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Source %d</title><link>https://source%d.example/</link><description>Bench feed %d</description>`, i, i, i)
		for _, it := range items {
			fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate>", esc(it.title), it.url, it.url, it.published.Format(time.RFC1123Z))
			for _, c := range it.cats {
				fmt.Fprintf(&b, "<category>%s</category>", c)
			}
			fmt.Fprintf(&b, "<description>%s</description></item>", esc(it.body))
		}
		b.WriteString("</channel></rss>")
	case 1:
		d.ctype = "application/atom+xml"
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Source %d</title><id>tag:source%d.example,2026:feed</id><updated>%s</updated><link href="https://source%d.example/"/>`, i, i, items[0].published.Format(time.RFC3339), i)
		for _, it := range items {
			fmt.Fprintf(&b, `<entry><title>%s</title><id>%s</id><link href="%s"/><updated>%s</updated><author><name>Reporter %d</name></author>`, esc(it.title), it.url, it.url, it.published.Format(time.RFC3339), it.n%5)
			for _, c := range it.cats {
				fmt.Fprintf(&b, `<category term="%s"/>`, c)
			}
			fmt.Fprintf(&b, `<content type="html">%s</content></entry>`, esc(it.body))
		}
		b.WriteString("</feed>")
	default:
		d.ctype = "application/feed+json"
		type jitem struct {
			ID          string   `json:"id"`
			URL         string   `json:"url"`
			Title       string   `json:"title"`
			ContentHTML string   `json:"content_html"`
			Date        string   `json:"date_published"`
			Tags        []string `json:"tags"`
		}
		doc := struct {
			Version string  `json:"version"`
			Title   string  `json:"title"`
			Home    string  `json:"home_page_url"`
			Items   []jitem `json:"items"`
		}{"https://jsonfeed.org/version/1.1", "Source " + strconv.Itoa(i), fmt.Sprintf("https://source%d.example/", i), nil}
		for _, it := range items {
			doc.Items = append(doc.Items, jitem{it.url, it.url, it.title, it.body, it.published.Format(time.RFC3339), it.cats})
		}
		body, _ := json.Marshal(doc)
		b.Write(body)
	}
	d.body = []byte(b.String())
	sum := sha256.Sum256(d.body)
	d.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return d
}

// name makes up a word from syllables: about 8,000 distinct ones.
func name(seed int) string {
	syl := strings.Fields("ka lo mi ra ne su to va de zi po ba fe gu ri sa")
	seed = seed*2654435761 + 12345
	if seed < 0 {
		seed = -seed
	}
	var b strings.Builder
	for j := range 3 + seed%2 {
		b.WriteString(syl[(seed>>(4*j))%len(syl)])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// feeds are the farm's feeds as feedmux is configured with them.
func (f *farm) feeds() []feedmux.Feed {
	feeds := make([]feedmux.Feed, f.n)
	for i := range feeds {
		feeds[i] = feedmux.Feed{URL: f.feedURL(i), Tags: []string{f.tag(i)}, Interval: time.Hour}
	}
	return feeds
}
