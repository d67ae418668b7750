// Package aggregator polls source feeds and stores their items: it schedules
// polls, fetches with its own HTTP client, parses with gofeed, normalizes
// items (keys, links, times, sanitized HTML, tags) and saves each feed's
// items in one storage transaction.
package aggregator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage"
	"github.com/mmcdole/gofeed"
)

// Poller polls source feeds and saves what they hold.
type Poller struct {
	db      *storage.DB
	fetcher *Fetcher
	log     *slog.Logger

	// Concurrency bounds the polls in flight in Run; 0 means 8.
	Concurrency int
	// MaxInterval caps the backoff of a failing feed; 0 means 24h.
	MaxInterval time.Duration
	// OnChange, when set, is called after a poll that added or changed
	// items, with the tags concerned. It must not block for long.
	OnChange func(tags []string)
	// Now returns the current time; tests replace it.
	Now func() time.Time

	feeds   chan []feedmux.Feed
	started chan struct{}
}

// NewPoller returns a Poller that stores into db and fetches with f.
func NewPoller(db *storage.DB, f *Fetcher, log *slog.Logger) *Poller {
	return &Poller{
		db:      db,
		fetcher: f,
		log:     log.With("component", "poller"),
		Now:     time.Now,
		feeds:   make(chan []feedmux.Feed, 1),
	}
}

// Result is the outcome of one poll.
type Result struct {
	Status    int // HTTP status; 0 when no answer came
	Inserted  int
	Updated   int
	NextCheck time.Time
}

// Poll fetches feed once, stores its items and its new state, and returns
// what happened. A failed poll is recorded in the feed's state (error count,
// message, a later next check) and returned as an error naming the feed.
// Items stored earlier are never removed by a poll.
func (p *Poller) Poll(ctx context.Context, feed feedmux.Feed) (Result, error) {
	start := p.Now()
	st, err := p.db.FeedState(ctx, feed.URL)
	if errors.Is(err, feedmux.ErrFeedNotFound) {
		st = feedmux.FeedState{URL: feed.URL}
	} else if err != nil {
		return Result{}, fmt.Errorf("poll %s: %w", feed.URL, err)
	}
	target := feed.URL
	if st.CurrentURL != "" {
		target = st.CurrentURL
	}
	st.LastPoll = start
	items, resp, err := p.fetchItems(ctx, feed, target, &st)
	if resp != nil {
		st.LastStatus = resp.Status
	} else {
		st.LastStatus = 0
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: the poll did not fail, it was stopped. Keep the state.
		return Result{}, ctx.Err()
	}
	res := Result{Status: st.LastStatus}
	if err != nil {
		st.Errors++
		st.LastError = err.Error()
		st.NextCheck = start.Add(backoff(feed.Interval, st.Errors, p.maxInterval()))
	} else {
		st.Errors = 0
		st.LastError = ""
		st.NextCheck = start.Add(feed.Interval)
	}
	res.NextCheck = st.NextCheck
	// The write goes on even if ctx ends now: a poll in flight finishes its
	// short transaction rather than leaving work half done.
	saved, serr := p.db.SaveItems(context.WithoutCancel(ctx), st, items)
	if serr != nil {
		return res, fmt.Errorf("poll %s: %w", feed.URL, serr)
	}
	res.Inserted, res.Updated = saved.Inserted, saved.Updated
	if len(saved.Tags) > 0 && p.OnChange != nil {
		p.OnChange(saved.Tags)
	}
	if err != nil {
		return res, fmt.Errorf("poll %s: %w", feed.URL, err)
	}
	return res, nil
}

// fetchItems fetches and parses target and updates st from the answer. It
// returns no items for a 304.
func (p *Poller) fetchItems(ctx context.Context, feed feedmux.Feed, target string, st *feedmux.FeedState) ([]feedmux.Item, *Response, error) {
	resp, err := p.fetcher.Fetch(ctx, target, Validators{ETag: st.ETag, LastModified: st.LastModified})
	if err != nil {
		return nil, resp, err
	}
	// A 304 may refresh the validators; a 200 always replaces them.
	if resp.Validators.ETag != "" || resp.Status != 304 {
		st.ETag = resp.Validators.ETag
	}
	if resp.Validators.LastModified != "" || resp.Status != 304 {
		st.LastModified = resp.Validators.LastModified
	}
	if resp.Status == 304 {
		return nil, resp, nil
	}
	doc, err := gofeed.NewParser().Parse(bytes.NewReader(resp.Body))
	if err != nil {
		// Without the validators the next poll fetches the document again
		// instead of a 304 hiding that it is still broken.
		st.ETag, st.LastModified = "", ""
		return nil, resp, fmt.Errorf("parse: %w", err)
	}
	base, err := url.Parse(resp.URL)
	if err != nil {
		return nil, resp, err
	}
	st.Title = plainText(doc.Title)
	st.SiteURL = absURL(base, doc.Link)
	return normalize(feed, doc, base, p.Now()), resp, nil
}

func (p *Poller) maxInterval() time.Duration {
	if p.MaxInterval > 0 {
		return p.MaxInterval
	}
	return 24 * time.Hour
}

// backoff is the wait after the n-th consecutive failure: the interval
// doubled per failure, capped, with up to 10% jitter so that feeds failing
// together do not retry together.
func backoff(interval time.Duration, n int, limit time.Duration) time.Duration {
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}
