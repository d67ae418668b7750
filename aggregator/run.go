package aggregator

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/feedmux/feedmux"
)

// SetFeeds gives Run the feeds to poll, replacing those it had. Feeds new to
// Run are scheduled from their stored next check (due at once when never
// polled); removed feeds are no longer polled, though a poll in flight ends.
func (p *Poller) SetFeeds(feeds []feedmux.Feed) {
	p.feedList.Store(&feeds)
	// Keep only the newest list: drop one Run has not picked up yet.
	select {
	case <-p.feeds:
	default:
	}
	p.feeds <- feeds
}

// Feeds returns the feeds last given to SetFeeds.
func (p *Poller) Feeds() []feedmux.Feed {
	if f := p.feedList.Load(); f != nil {
		return *f
	}
	return nil
}

// Run polls the feeds given by SetFeeds until ctx ends, each when its next
// check is due, at most Concurrency at a time and PerHost to one host. It
// returns after every poll it started has finished, with nil when ctx was
// canceled.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait: it ends grouping when Run returns an error
	s := p.newRunState(&wg)
	p.startCompanions(ctx, &wg)
	return s.loop(ctx)
}

// startCompanions starts the work Run does beside polling, each part that
// is configured: story grouping, pages and push subscriptions.
func (p *Poller) startCompanions(ctx context.Context, wg *sync.WaitGroup) {
	if p.Stories != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.RunGrouping(ctx)
		}()
	}
	if p.Pages != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.runPages(ctx)
		}()
	}
	if p.Push != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.runPush(ctx)
		}()
	}
}

// pollJob polls j's feed, started at the given time, and returns the job
// of its next poll; on a shared store, only once this process has claimed
// the feed (else the job says when to ask again).
func (p *Poller) pollJob(ctx context.Context, j job, started time.Time) job {
	if mine, later := p.claim(ctx, j); !mine {
		return later
	}
	res, err := p.Poll(ctx, j.feed)
	took := p.Now().Sub(started)
	p.logPoll(j.feed, res, err, took)
	if p.OnPoll != nil {
		p.OnPoll(j.feed, res, err, took)
	}
	next := res.NextCheck
	switch {
	case errors.Is(err, feedmux.ErrStorage):
		next = j.due // nothing was stored: the schedule stands, its items come again
	case next.IsZero(): // the feed's state could not be read: try again later
		next = p.Now().Add(j.feed.Interval)
	}
	return job{feed: j.feed, due: next, gone: res.Gone}
}

// stopped is what Run returns for err: nil when it only says that Run was
// canceled.
func stopped(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// syncFeeds stores the configured feeds *list and clears it. While the
// database cannot be written the list stays, to be stored once it can, and
// polling goes on with it meanwhile; other errors are returned.
func (p *Poller) syncFeeds(ctx context.Context, list *[]feedmux.Feed) error {
	err := p.db.SyncFeeds(ctx, *list)
	switch {
	case err == nil:
		*list = nil
	case errors.Is(err, feedmux.ErrStorage):
		p.log.Debug("configured feeds not stored yet", "error", err)
		return nil
	}
	return err
}

// plan builds the schedule of feeds from their stored next checks, leaving
// out those in flight: they are queued again when their poll ends.
func (p *Poller) plan(ctx context.Context, feeds []feedmux.Feed, inFlight map[string]bool) (map[string]feedmux.Feed, schedule, error) {
	states, err := p.db.FeedStates(ctx)
	if err != nil {
		return nil, nil, err
	}
	byURL := make(map[string]feedmux.FeedState, len(states))
	for _, st := range states {
		byURL[st.URL] = st
	}
	current := make(map[string]feedmux.Feed, len(feeds))
	queue := make(schedule, 0, len(feeds))
	for _, f := range feeds {
		current[f.URL] = f
		if st := byURL[f.URL]; !inFlight[f.URL] && !st.Gone {
			queue = append(queue, job{feed: f, due: st.NextCheck})
		}
	}
	heap.Init(&queue)
	return current, queue, nil
}

func (p *Poller) logPoll(feed feedmux.Feed, res Result, err error, took time.Duration) {
	switch {
	case errors.Is(err, context.Canceled):
	case errors.Is(err, feedmux.ErrStorage): // logged once for all feeds, by Run
		p.log.Debug("poll not stored", "feed", feed.URL, "error", errors.Unwrap(err))
	case err != nil:
		var se *StatusError
		if errors.As(err, &se) && se.Code == 410 {
			p.log.Warn("feed gone", "feed", feed.URL, "status", res.Status,
				"detail", "the source answered 410 Gone; it is not polled until its configuration changes")
			return
		}
		p.log.Warn("poll failed", "feed", feed.URL, "status", res.Status, "duration", took,
			"next_check", res.NextCheck, "error", errors.Unwrap(err))
	case res.Warning != "":
		p.log.Warn("poll incomplete", "feed", feed.URL, "status", res.Status, "duration", took,
			"bytes", res.Bytes, "new", res.Inserted, "updated", res.Updated, "warning", res.Warning)
	default:
		p.log.Debug("polled", "feed", feed.URL, "status", res.Status, "duration", took,
			"bytes", res.Bytes, "new", res.Inserted, "updated", res.Updated, "next_check", res.NextCheck)
	}
}

// PollAll polls every feed once, now, whatever its schedule, with Run's
// limits: Concurrency polls at once and PerHost to one host. It calls done
// after each poll (from the polling goroutine) and returns when all are
// finished. It is for one-shot runs: feedmux fetch, the benchmark.
func (p *Poller) PollAll(ctx context.Context, feeds []feedmux.Feed, done func(i int, res Result, err error, took time.Duration)) {
	limit := newLimiter(p.concurrency(), p.perHost())
	var wg sync.WaitGroup
	for i, f := range feeds {
		slot := limit.slot(hostOf(f.URL))
		wg.Add(1)
		go func() {
			defer wg.Done()
			slot.acquire()
			start := p.Now()
			res, err := p.Poll(ctx, f)
			took := p.Now().Sub(start)
			slot.release()
			done(i, res, err, took)
		}()
	}
	wg.Wait()
}

// limiter bounds work in flight: in all, and to one host.
type limiter struct {
	all     chan struct{}
	hosts   map[string]chan struct{}
	perHost int
}

func newLimiter(total, perHost int) *limiter {
	return &limiter{all: make(chan struct{}, total), hosts: map[string]chan struct{}{}, perHost: perHost}
}

// slot returns the slot of a piece of work for host. It is called from one
// goroutine; the slot's acquire and release from any.
func (l *limiter) slot(host string) hostSlot {
	if l.hosts[host] == nil {
		l.hosts[host] = make(chan struct{}, l.perHost)
	}
	return hostSlot{all: l.all, host: l.hosts[host]}
}

type hostSlot struct{ all, host chan struct{} }

// acquire waits for the host's turn, then for a slot among all.
func (s hostSlot) acquire() {
	s.host <- struct{}{}
	s.all <- struct{}{}
}

func (s hostSlot) release() {
	<-s.all
	<-s.host
}

func (p *Poller) concurrency() int {
	if p.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return p.Concurrency
}

func (p *Poller) perHost() int {
	if p.PerHost <= 0 {
		return DefaultPerHost
	}
	return p.PerHost
}
