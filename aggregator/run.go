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
	// Keep only the newest list: drop one Run has not picked up yet.
	select {
	case <-p.feeds:
	default:
	}
	p.feeds <- feeds
}

// Run polls the feeds given by SetFeeds until ctx ends, each at its
// interval and at most Concurrency at a time. It returns after every poll it
// started has finished, with nil when ctx was canceled.
func (p *Poller) Run(ctx context.Context) error {
	concurrency := p.Concurrency
	if concurrency <= 0 {
		concurrency = 8
	}
	var (
		wg       sync.WaitGroup
		done     = make(chan job, concurrency)
		queue    schedule
		inFlight = map[string]bool{}
		current  = map[string]feedmux.Feed{}
		timer    = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	defer wg.Wait()
	for {
		now := p.Now()
		for len(inFlight) < concurrency && queue.Len() > 0 && !queue[0].due.After(now) {
			j := heap.Pop(&queue).(job)
			if _, ok := current[j.feed.URL]; !ok {
				continue // removed since it was queued
			}
			inFlight[j.feed.URL] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := p.Poll(ctx, j.feed)
				p.logPoll(j.feed, res, err, p.Now().Sub(now))
				next := res.NextCheck
				if next.IsZero() { // storage failed: try again later
					next = p.Now().Add(j.feed.Interval)
				}
				done <- job{feed: j.feed, due: next}
			}()
		}
		var wake <-chan time.Time
		if len(inFlight) < concurrency && queue.Len() > 0 {
			timer.Reset(max(queue[0].due.Sub(p.Now()), 0))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case j := <-done:
			delete(inFlight, j.feed.URL)
			if f, ok := current[j.feed.URL]; ok {
				heap.Push(&queue, job{feed: f, due: j.due})
			}
		case feeds := <-p.feeds:
			if err := p.db.SyncFeeds(ctx, feeds); err != nil {
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			var err error
			current, queue, err = p.plan(ctx, feeds, inFlight)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
		case <-wake:
		}
	}
}

// plan builds the schedule of feeds from their stored next checks, leaving
// out those in flight: they are queued again when their poll ends.
func (p *Poller) plan(ctx context.Context, feeds []feedmux.Feed, inFlight map[string]bool) (map[string]feedmux.Feed, schedule, error) {
	states, err := p.db.FeedStates(ctx)
	if err != nil {
		return nil, nil, err
	}
	next := make(map[string]time.Time, len(states))
	for _, st := range states {
		next[st.URL] = st.NextCheck
	}
	current := make(map[string]feedmux.Feed, len(feeds))
	queue := make(schedule, 0, len(feeds))
	for _, f := range feeds {
		current[f.URL] = f
		if !inFlight[f.URL] {
			queue = append(queue, job{feed: f, due: next[f.URL]})
		}
	}
	heap.Init(&queue)
	return current, queue, nil
}

func (p *Poller) logPoll(feed feedmux.Feed, res Result, err error, took time.Duration) {
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		p.log.Warn("poll failed", "feed", feed.URL, "status", res.Status, "duration", took,
			"next_check", res.NextCheck, "error", err)
	default:
		p.log.Debug("polled", "feed", feed.URL, "status", res.Status, "duration", took,
			"new", res.Inserted, "updated", res.Updated, "next_check", res.NextCheck)
	}
}

// job is a feed due at a time.
type job struct {
	feed feedmux.Feed
	due  time.Time
}

// schedule is a min-heap of jobs by due time.
type schedule []job

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].due.Before(s[j].due) }
func (s schedule) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)        { *s = append(*s, x.(job)) }
func (s *schedule) Pop() any {
	old := *s
	j := old[len(old)-1]
	*s = old[:len(old)-1]
	return j
}
