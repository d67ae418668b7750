// Package aggregator polls source feeds and stores their items: it schedules
// polls, fetches with its own HTTP client, parses with gofeed, normalizes
// items (keys, links, times, sanitized HTML, tags) and saves each feed's
// items in one storage transaction.
package aggregator

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// Poller polls source feeds and saves what they hold.
type Poller struct {
	db      feedmux.Store
	fetcher atomic.Pointer[Fetcher]
	log     *slog.Logger

	// Concurrency bounds the polls in flight in Run; 0 means
	// DefaultConcurrency.
	Concurrency int
	// PerHost bounds the polls in flight to one host in Run; 0 means
	// DefaultPerHost.
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
	Pages *Pages
	// Push, when set, subscribes at the WebSub hubs sources name: Run
	// makes and renews the subscriptions beside polling, and Callback
	// answers the hubs.
	Push         *Subscriber
	pushInterval atomic.Int64 // see SetPushInterval
	unchanged    *unchanged   // the source items of each feed's last stored poll

	// StorageRetry is how often Run tries one poll while the database
	// cannot be written; 0 means DefaultStorageRetry.
	StorageRetry time.Duration
	groupingLead atomic.Bool // see LeadsGrouping

	// Instance names this process among those that share the store, when
	// the store is a feedmux.FeedClaimer: Run polls a due feed only once
	// it has claimed it.
	Instance string
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
func NewPoller(db feedmux.Store, f *Fetcher, log *slog.Logger) *Poller {
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
	interval := clamp(p.pollInterval(feed, &st, start), p.minInterval(), p.maxInterval())
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
	p.stored(feed, saved)
	if p.Push != nil && f.read {
		if err := p.observeHub(context.WithoutCancel(ctx), feed, st.Push, f.hub, f.topic); err != nil {
			p.log.Warn("push: subscription not recorded", "feed", feed.URL, "error", err)
		}
	}
	if err != nil {
		return res, fmt.Errorf("poll %s: %w", feed.URL, err)
	}
	return res, nil
}

// stored tells the parts beside polling what storing a feed's items
// changed, for a poll and a push alike: the story grouper, the page
// fetcher, and OnChange (the server's cache).
func (p *Poller) stored(feed feedmux.Feed, saved feedmux.SaveResult) {
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
}

func (p *Poller) minInterval() time.Duration { return p.intervals.Load()[0] }

func (p *Poller) maxInterval() time.Duration { return p.intervals.Load()[1] }
