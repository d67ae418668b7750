// Package aggregator polls source feeds and stores their items: it schedules
// polls, fetches with its own HTTP client, parses with gofeed, normalizes
// items (keys, links, times, sanitized HTML, tags) and saves each feed's
// items in one storage transaction.
package aggregator

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage"
	"github.com/mmcdole/gofeed"
)

// Poller polls source feeds and saves what they hold.
type Poller struct {
	db      *storage.DB
	fetcher atomic.Pointer[Fetcher]
	log     *slog.Logger

	// Concurrency bounds the polls in flight in Run; 0 means 8.
	Concurrency int
	// PerHost bounds the polls in flight to one host in Run; 0 means 2.
	PerHost int
	// OnChange, when set, is called after a poll that added or changed
	// items, with the tags concerned. It must not block for long.
	OnChange func(tags []string)
	// Now returns the current time; tests replace it.
	Now func() time.Time

	// OnPoll, when set, is called after every poll Run makes.
	OnPoll func(feed feedmux.Feed, res Result, err error, took time.Duration)

	feeds     chan []feedmux.Feed
	grouping  chan struct{}                  // items wait for story grouping
	feedList  atomic.Pointer[[]feedmux.Feed] // the last SetFeeds gave
	cpu       chan struct{}                  // slots for the CPU-heavy part of polls
	tagger    atomic.Pointer[Tagger]
	intervals atomic.Pointer[[2]time.Duration] // see SetIntervals
	ready     atomic.Bool
	// Stories, when set, groups new items into stories: Run does it beside
	// polling; after PollAll, GroupPending does.
	Stories *Grouper
	// Pages, when set, fetches the pages of full_content feeds' items:
	// Run does it beside polling.
	Pages     *Pages
	unchanged *unchanged // the source items of each feed's last stored poll

	// StorageRetry is how often Run tries one poll while the database
	// cannot be written; 0 means DefaultStorageRetry.
	StorageRetry time.Duration
}

// errParse marks a document that is not a feed feedmux can read.
var errParse = errors.New("parse")

// Ready reports whether Run has polled every feed that was due when it
// started: one poll cycle is done.
func (p *Poller) Ready() bool { return p.ready.Load() }

// ErrorKind names the kind of a poll error for metrics: storage (the
// database could not be written: not the source's fault), timeout,
// network, tls, http_4xx, http_5xx, rate_limited, gone, too_large, parse or
// other.
func ErrorKind(err error) string {
	var se *StatusError
	var ne net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, feedmux.ErrStorage):
		return "storage"
	case errors.As(err, &se):
		switch {
		case se.Code == http.StatusGone:
			return "gone"
		case se.Code == http.StatusTooManyRequests:
			return "rate_limited"
		case se.Code >= 500:
			return "http_5xx"
		}
		return "http_4xx"
	case errors.Is(err, ErrBodyTooLarge):
		return "too_large"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return "tls"
	case errors.As(err, &dnsErr), errors.As(err, &opErr):
		return "network"
	case errors.Is(err, errParse):
		return "parse"
	}
	return "other"
}

// SetRules makes the poller tag the items it stores with t from now on.
func (p *Poller) SetRules(t *Tagger) { p.tagger.Store(t) }

// Rules is the Tagger the poller tags with.
func (p *Poller) Rules() *Tagger { return p.tagger.Load() }

// NewPoller returns a Poller that stores into db and fetches with f.
func NewPoller(db *storage.DB, f *Fetcher, log *slog.Logger) *Poller {
	p := &Poller{
		db:        db,
		log:       log.With("component", "poller"),
		Now:       time.Now,
		feeds:     make(chan []feedmux.Feed, 1),
		grouping:  make(chan struct{}, 1),
		cpu:       make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		unchanged: newUnchanged(),
	}
	p.fetcher.Store(f)
	p.SetIntervals(0, 0)
	return p
}

// Fetcher returns the Fetcher the poller fetches with.
func (p *Poller) Fetcher() *Fetcher { return p.fetcher.Load() }

// SetFetcher makes the poller fetch with f from its next fetch on.
func (p *Poller) SetFetcher(f *Fetcher) { p.fetcher.Store(f) }

// SetIntervals bounds every wait between two polls of a feed, whatever its
// interval, the source's hints or its backoff, from the next poll on; zero
// values mean DefaultMinInterval and DefaultMaxInterval.
func (p *Poller) SetIntervals(lo, hi time.Duration) {
	p.intervals.Store(&[2]time.Duration{cmp.Or(lo, DefaultMinInterval), cmp.Or(hi, DefaultMaxInterval)})
}

// Intervals returns the bounds SetIntervals set.
func (p *Poller) Intervals() (lo, hi time.Duration) {
	iv := p.intervals.Load()
	return iv[0], iv[1]
}

// Result is the outcome of one poll.
type Result struct {
	Status    int // HTTP status; 0 when no answer came
	Bytes     int // body bytes received, decoded
	Inserted  int
	Updated   int
	Unchanged int // items the last stored poll brought as they are: not normalized again
	NextCheck time.Time
	Gone      bool // the source answered 410 Gone: do not poll again
	// Warning notes a problem that did not stop the poll (a malformed
	// document whose first items were kept).
	Warning string
}

// Poll fetches feed once, stores its items and its new state, and returns
// what happened. A failed poll is recorded in the feed's state (error count,
// message, a later next check) and returned as an error naming the feed.
// Items stored earlier are never removed by a poll. A feed marked gone is
// not fetched.
func (p *Poller) Poll(ctx context.Context, feed feedmux.Feed) (Result, error) {
	start := p.Now()
	st, err := p.db.FeedState(ctx, feed.URL)
	if errors.Is(err, feedmux.ErrFeedNotFound) {
		st = feedmux.FeedState{URL: feed.URL}
	} else if err != nil {
		return Result{}, fmt.Errorf("poll %s: %w", feed.URL, err)
	}
	if st.Gone {
		return Result{Status: st.LastStatus, Gone: true}, nil
	}
	st.LastPoll = start
	f, err := p.fetch(ctx, feed, &st)
	if err != nil && ctx.Err() != nil {
		// Shutting down: the poll did not fail, it was stopped. Keep the state.
		return Result{}, ctx.Err()
	}
	res := Result{Status: st.LastStatus, Bytes: f.bytes, Warning: f.warning}
	interval := clamp(feed.Interval, p.minInterval(), p.maxInterval())
	var wait time.Duration
	if err != nil {
		st.Errors++
		st.LastError = err.Error()
		// Counted from the failure, not the start: a source that takes the
		// whole timeout to fail must not be asked again at once.
		wait = backoff(interval, st.Errors, p.maxInterval()) + p.Now().Sub(start)
		var se *StatusError
		if errors.As(err, &se) {
			wait = max(wait, se.RetryAfter)
			st.Gone = se.Code == http.StatusGone
			res.Gone = st.Gone
		}
	} else {
		st.Errors = 0
		st.LastError = f.warning
		wait = max(interval, f.floor)
	}
	st.NextCheck = start.Add(clamp(wait, p.minInterval(), p.maxInterval()))
	res.NextCheck = st.NextCheck
	// The write goes on even if ctx ends now: a poll in flight finishes its
	// short transaction rather than leaving work half done.
	saved, serr := p.db.SaveItems(context.WithoutCancel(ctx), st, f.items)
	if serr != nil {
		p.unchanged.forget(feed.URL)
		return res, fmt.Errorf("poll %s: %w", feed.URL, serr)
	}
	p.unchanged.remember(feed.URL, f.memo)
	res.Inserted, res.Updated = saved.Inserted, saved.Updated
	res.Unchanged = f.memo.unchanged()
	if len(saved.New) > 0 && p.Stories != nil {
		p.wakeGrouping() // the new items wait for it; the poll does not
	}
	if feed.FullContent && saved.Inserted+saved.Updated > 0 && p.Pages != nil {
		p.Pages.poke() // their pages wait for it too
	}
	if changed := saved.Tags; len(changed) > 0 && p.OnChange != nil {
		slices.Sort(changed)
		p.OnChange(slices.Compact(changed))
	}
	if err != nil {
		return res, fmt.Errorf("poll %s: %w", feed.URL, err)
	}
	return res, nil
}

// fetched is what one fetch brought.
type fetched struct {
	items   []feedmux.Item
	memo    *itemMemo // the source items seen, for unchanged once stored
	bytes   int
	floor   time.Duration // the shortest wait the source asked for
	warning string
}

// fetch gets the feed from where it is polled now, follows an HTML page to
// the feed it announces (once: the discovered URL is remembered), parses,
// and updates st from the answer: status, validators, permanent moves,
// title. It returns no items for a 304.
func (p *Poller) fetch(ctx context.Context, feed feedmux.Feed, st *feedmux.FeedState) (fetched, error) {
	target := feed.URL
	if st.CurrentURL != "" {
		target = st.CurrentURL
	}
	var f fetched
	fetcher := p.fetcher.Load()
	resp, err := fetcher.Fetch(ctx, target, Validators{ETag: st.ETag, LastModified: st.LastModified})
	st.LastStatus = 0
	if resp != nil {
		st.LastStatus = resp.Status
		if resp.MovedTo != "" {
			st.CurrentURL = resp.MovedTo
			if resp.MovedTo == feed.URL {
				st.CurrentURL = ""
			}
		}
		f.floor = resp.CacheFor
	}
	if err != nil {
		return f, err
	}
	if resp.Status == http.StatusNotModified {
		// A 304 may refresh the validators.
		if resp.Validators.ETag != "" {
			st.ETag = resp.Validators.ETag
		}
		if resp.Validators.LastModified != "" {
			st.LastModified = resp.Validators.LastModified
		}
		return f, nil
	}
	f.bytes = len(resp.Body)
	// Parsing and sanitizing are the CPU-heavy part of a poll: at most one
	// poll per core does it at once, so that the polls in flight do not
	// hold their bodies half-parsed together. (Half the cores, as before,
	// made a warm pass parse-bound on one core at 1.4-1.6x the floor, and
	// bought serving no measurable latency: see BENCHMARKS.md.)
	p.cpu <- struct{}{}
	release := sync.OnceFunc(func() { <-p.cpu })
	defer release()
	body, err := gunzipStray(resp.Body, fetcher.maxBody)
	if err != nil {
		return f, err
	}
	body = toUTF8(body, resp.ContentType)
	base, err := url.Parse(resp.URL)
	if err != nil {
		return f, err
	}
	if feed.Scrape != nil {
		doc, err := scrapePage(body, base, feed.Scrape)
		if err != nil {
			st.ETag, st.LastModified = "", ""
			return f, fmt.Errorf("%w: %w", errParse, err)
		}
		st.ETag, st.LastModified = resp.Validators.ETag, resp.Validators.LastModified
		st.Title, st.SiteURL = doc.Title, doc.Link
		f.items, f.memo = p.normalize(feed, doc, base)
		return f, nil
	}
	doc, perr := parse(body)
	if perr != nil && looksLikeHTML(body, resp.ContentType) {
		if st.DiscoveredURL != "" && target == st.DiscoveredURL {
			// The page's feed turned into a page itself: look again next time.
			st.CurrentURL, st.DiscoveredURL = "", ""
			return f, errors.New("not a feed: the discovered feed link now answers with an HTML page")
		}
		links := feedLinks(body, base)
		if len(links) == 0 {
			return f, errors.New("not a feed: HTML page without feed links")
		}
		st.DiscoveredURL, st.CurrentURL = links[0], links[0]
		st.ETag, st.LastModified = "", ""
		p.log.Info("feed discovered", "feed", feed.URL, "discovered", links[0])
		release() // the discovered feed's fetch takes a slot of its own
		return p.fetch(ctx, feed, st)
	}
	if perr != nil {
		doc = salvage(body)
		if doc == nil {
			doc = repairJSON(body)
		}
		if doc == nil {
			// Without validators the next poll fetches the document again
			// instead of a 304 hiding that it is still broken.
			st.ETag, st.LastModified = "", ""
			return f, fmt.Errorf("%w: %w", errParse, perr)
		}
		f.warning = fmt.Sprintf("malformed document: kept the %d items that could be read (%v)", len(doc.Items), perr)
	}
	st.ETag, st.LastModified = resp.Validators.ETag, resp.Validators.LastModified
	st.Title = plainText(doc.Title)
	st.SiteURL = absURL(base, doc.Link)
	f.floor = max(f.floor, docFloor(doc))
	f.items, f.memo = p.normalize(feed, doc, base)
	return f, nil
}

// normalize normalizes the items of a parsed document, leaving out those
// the feed's last stored poll brought unchanged.
func (p *Poller) normalize(feed feedmux.Feed, doc *gofeed.Feed, base *url.URL) ([]feedmux.Item, *itemMemo) {
	tagger := p.tagger.Load()
	memo := p.unchanged.memo(feed.URL, feedFingerprint(feed, tagger))
	return normalize(feed, doc, base, p.Now(), tagger, memo), memo
}

// parse parses a UTF-8 feed body with gofeed, keeping the format-specific
// feed for what the universal one drops (RSS <ttl>).
func parse(body []byte) (*gofeed.Feed, error) {
	fp := gofeed.NewParser()
	fp.KeepOriginalFeed = true
	return fp.Parse(bytes.NewReader(body))
}

// salvage parses the part of a broken XML document up to its last complete
// item or entry, closed as the format needs. It returns nil when that gives
// no items.
func salvage(body []byte) *gofeed.Feed {
	for _, c := range []struct{ end, root, close string }{
		{"</item>", "<rdf:RDF", "</rdf:RDF>"},
		{"</item>", "", "</channel></rss>"},
		{"</entry>", "", "</feed>"},
	} {
		i := bytes.LastIndex(body, []byte(c.end))
		if i < 0 || (c.root != "" && !bytes.Contains(body[:min(len(body), 4096)], []byte(c.root))) {
			continue
		}
		prefix := append(bytes.Clone(body[:i+len(c.end)]), c.close...)
		if doc, err := parse(prefix); err == nil && len(doc.Items) > 0 {
			return doc
		}
	}
	return nil
}

// repairJSON fixes the JSON Feed mistakes gofeed's strict decoding rejects
// (tags or authors given as one value instead of a list, numeric ids) and
// parses the result. It returns nil when that does not help.
func repairJSON(body []byte) *gofeed.Feed {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	items, _ := doc["items"].([]any)
	for _, x := range items {
		it, ok := x.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range []string{"tags", "authors", "attachments"} {
			if v, ok := it[k]; ok {
				if _, isList := v.([]any); !isList {
					it[k] = []any{v}
				}
			}
		}
		if n, ok := it["id"].(float64); ok {
			it["id"] = strconv.FormatFloat(n, 'f', -1, 64)
		}
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	if feed, err := parse(fixed); err == nil {
		return feed
	}
	return nil
}

func (p *Poller) minInterval() time.Duration { return p.intervals.Load()[0] }

func (p *Poller) maxInterval() time.Duration { return p.intervals.Load()[1] }
