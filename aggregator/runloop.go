package aggregator

import (
	"cmp"
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/feedmux/feedmux"
)

// runState is what Run's scheduling loop keeps from one turn to the next.
type runState struct {
	p                    *Poller
	wg                   *sync.WaitGroup // the polls started are added to it
	concurrency, perHost int
	done                 chan job // the next jobs of finished polls
	queue                schedule
	inFlight             map[string]bool
	hosts                map[string]int   // polls in flight per host
	waiting              map[string][]job // due, held back by their host's limit
	current              map[string]feedmux.Feed
	pause                storagePause
	unsynced             []feedmux.Feed // given by SetFeeds, not yet stored
	first                firstCycle
}

// newRunState returns the state of a Run that has no feeds yet.
func (p *Poller) newRunState(wg *sync.WaitGroup) *runState {
	concurrency := p.concurrency()
	return &runState{
		p:           p,
		wg:          wg,
		concurrency: concurrency,
		perHost:     p.perHost(),
		done:        make(chan job, concurrency),
		inFlight:    map[string]bool{},
		hosts:       map[string]int{},
		waiting:     map[string][]job{},
		current:     map[string]feedmux.Feed{},
		pause:       storagePause{retry: cmp.Or(p.StorageRetry, DefaultStorageRetry), log: p.log},
		first:       firstCycle{ready: &p.ready},
	}
}

// loop is Run's scheduling loop: it starts the polls that are due and takes
// their ends and new feed lists, until ctx ends.
func (s *runState) loop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := s.p.Now()
		s.pause.observe(s.p.db.WriteHealth(), now)
		if s.unsynced != nil && !s.pause.paused {
			if err := s.p.syncFeeds(ctx, &s.unsynced); err != nil {
				return stopped(err)
			}
		}
		s.startDue(ctx, now)
		wake := s.wake(timer)
		select {
		case <-ctx.Done():
			return nil
		case j := <-s.done:
			s.finished(j)
		case feeds := <-s.p.feeds:
			if err := s.replan(ctx, feeds, now); err != nil {
				return stopped(err)
			}
		case <-wake:
		}
	}
}

// startDue starts the polls due at now, as many as the limits and the
// storage pause let through; a job held back by its host's limit waits.
func (s *runState) startDue(ctx context.Context, now time.Time) {
	for len(s.inFlight) < s.concurrency && s.queue.Len() > 0 && !s.queue[0].due.After(now) && s.pause.allow(now, len(s.inFlight)) {
		j := heap.Pop(&s.queue).(job)
		if _, ok := s.current[j.feed.URL]; !ok {
			continue // removed since it was queued
		}
		host := hostOf(j.feed.URL)
		if s.hosts[host] >= s.perHost {
			s.waiting[host] = append(s.waiting[host], j)
			continue
		}
		s.hosts[host]++
		s.inFlight[j.feed.URL] = true
		p, done, wg := s.p, s.done, s.wg
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- p.pollJob(ctx, j, now)
		}()
	}
}

// wake returns timer's channel, set for when the next queued poll may
// start, or nil when none may start before a poll ends.
func (s *runState) wake(timer *time.Timer) <-chan time.Time {
	if len(s.inFlight) < s.concurrency && s.queue.Len() > 0 && (!s.pause.paused || len(s.inFlight) == 0) {
		timer.Reset(max(s.queue[0].due.Sub(s.p.Now()), s.pause.wait(s.p.Now())))
		return timer.C
	}
	return nil
}

// finished notes the end of a poll whose next job is j: a job its host
// held back goes first, and j is queued unless its feed is removed or gone.
func (s *runState) finished(j job) {
	delete(s.inFlight, j.feed.URL)
	s.first.polled(j.feed.URL)
	host := hostOf(j.feed.URL)
	s.hosts[host]--
	if w := s.waiting[host]; len(w) > 0 {
		heap.Push(&s.queue, w[0]) // still due: it goes first
		s.waiting[host] = w[1:]
	}
	if f, ok := s.current[j.feed.URL]; ok && !j.gone {
		heap.Push(&s.queue, job{feed: f, due: j.due})
	}
}

// replan takes feeds, given by SetFeeds, at now: it stores them and plans
// their schedule afresh.
func (s *runState) replan(ctx context.Context, feeds []feedmux.Feed, now time.Time) error {
	s.unsynced = feeds
	if err := s.p.syncFeeds(ctx, &s.unsynced); err != nil {
		return err
	}
	var err error
	s.current, s.queue, err = s.p.plan(ctx, feeds, s.inFlight)
	clear(s.waiting)
	if err != nil {
		return err
	}
	s.first.planned(s.queue, s.current, now)
	return nil
}
