package aggregator

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// WebSub subscriber defaults.
const (
	// DefaultPushInterval is how often a feed whose hub pushes its changes
	// is polled all the same.
	DefaultPushInterval = 6 * time.Hour
	// DefaultLease is the lease asked of hubs; they grant what they will.
	DefaultLease = 10 * 24 * time.Hour
	// CallbackPath is where hubs find feedmux's callbacks, under the
	// base URL: CallbackPath + callback id.
	CallbackPath = "/websub/callback/"

	pushBatch = 32
	// A request to a hub that failed is tried again pushRetry later,
	// doubled per attempt since the last verification, up to pushMaxRetry.
	pushRetry    = 5 * time.Minute
	pushMaxRetry = 24 * time.Hour
	// verifyWait is how long a hub that accepted a request has to verify
	// it before the request is made again (a subscription), or forgotten
	// (a cancellation).
	verifyWait = time.Hour
	// deniedWait is how long a refused subscription is remembered (and
	// shown); after it, a poll that finds the hub asks again.
	deniedWait = 7 * 24 * time.Hour
)

// Subscriber holds feedmux's side of WebSub (W3C Recommendation, 2018) as
// a subscriber: the hubs that sources name are asked to push the feeds'
// changes to callbacks under the public base URL. The subscriptions live
// in the database (storage.DB's push methods); the Poller finds hubs as it
// polls, makes and renews the subscriptions in Run (MaintainPush), and
// answers the hubs at its Callback. Its methods are safe for concurrent
// use.
type Subscriber struct {
	fetcher atomic.Pointer[Fetcher] // guarded: hubs are other people's addresses
	base    atomic.Pointer[string]
	// Lease is the lease asked of hubs; 0 means DefaultLease.
	Lease time.Duration
	// OnPush, when set, is called for every content distribution a hub
	// sent to a known callback: accepted (signed with the secret and
	// stored) or not.
	OnPush func(feed feedmux.Feed, accepted bool)

	wake   chan struct{}
	busy   chan struct{} // slots for the pushes being read and stored
	noBase sync.Once     // says once that base_url is needed
}

// NewSubscriber returns a Subscriber that makes its requests to hubs with
// fetcher, which should be the guarded one article pages are fetched with
// (see NewPages), and gives hubs callbacks under baseURL ("": subscribe
// to nothing).
func NewSubscriber(fetcher *Fetcher, baseURL string) *Subscriber {
	s := &Subscriber{wake: make(chan struct{}, 1), busy: make(chan struct{}, 2)}
	s.SetFetcher(fetcher)
	s.SetBaseURL(baseURL)
	return s
}

// SetFetcher replaces the client requests to hubs are made with, for a
// configuration reload.
func (s *Subscriber) SetFetcher(f *Fetcher) { s.fetcher.Store(f) }

// SetBaseURL sets the public URL of feedmux under which hubs find the
// callbacks, for the requests made from now on.
func (s *Subscriber) SetBaseURL(u string) {
	u = strings.TrimSuffix(u, "/")
	s.base.Store(&u)
}

// BaseURL is the URL SetBaseURL set.
func (s *Subscriber) BaseURL() string { return *s.base.Load() }

func (s *Subscriber) lease() time.Duration { return cmp.Or(s.Lease, DefaultLease) }

func (s *Subscriber) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SetPushInterval makes feeds whose hub pushes their changes (an active
// lease) polled every d from their next poll on, unless their own
// interval is longer; 0 means DefaultPushInterval. Like every wait, it is
// bounded by SetIntervals.
func (p *Poller) SetPushInterval(d time.Duration) {
	p.pushInterval.Store(int64(cmp.Or(d, DefaultPushInterval)))
}

// PushInterval is the interval SetPushInterval set.
func (p *Poller) PushInterval() time.Duration {
	return cmp.Or(time.Duration(p.pushInterval.Load()), DefaultPushInterval)
}

// renewAt is when a lease granted at verification, ending at end, is
// renewed: a tenth of the lease before its end, but at least a day
// before, and never earlier than half-way through (a one-hour lease is
// renewed after 30 minutes, a ten-day lease a day before it ends).
func renewAt(end time.Time, lease time.Duration) time.Time {
	margin := min(max(lease/10, 24*time.Hour), lease/2)
	return end.Add(-margin)
}

// observeHub compares the hub and topic a polled document names with the
// feed's subscription cur, and subscribes, moves or cancels it to match.
// Only a document that was read counts: a 304 or a failed poll says
// nothing of hubs.
func (p *Poller) observeHub(ctx context.Context, feed feedmux.Feed, cur feedmux.Push, hub, topic string) error {
	s := p.Push
	switch {
	case hub == "" && cur.Hub == "":
		return nil
	case hub == "":
		p.log.Info("push: the feed no longer names a hub: cancelling the subscription", "feed", feed.URL, "hub", cur.Hub)
		defer s.poke()
		return p.db.UnsubscribePush(ctx, feed.URL)
	case cur.Hub == hub && cur.Topic == topic:
		return nil
	case s.BaseURL() == "":
		s.noBase.Do(func() {
			p.log.Info("push: a feed names a WebSub hub, but [server] base_url is not set, so hubs cannot reach feedmux: polling only",
				"feed", feed.URL, "hub", hub)
		})
		return nil
	}
	p.log.Info("push: subscribing", "feed", feed.URL, "hub", hub, "topic", topic)
	defer s.poke()
	// crypto/rand.Text is 26 base32 characters (130 bits); the secret is
	// two, 52 bytes, well under the Recommendation's 200.
	return p.db.SubscribePush(ctx, feedmux.Push{
		FeedURL: feed.URL, Hub: hub, Topic: topic, State: feedmux.PushSubscribing,
		CallbackID: rand.Text(), Secret: rand.Text() + rand.Text(),
	})
}

// MaintainPush does the work due on subscriptions at the poller's Now:
// subscription requests, first or again after an error or a hub that did
// not verify; renewals of leases; cancellations; forgetting what is done.
// Requests go to the hubs one at a time through the Subscriber's guarded
// client. It returns an error only when the database cannot be read;
// requests that fail are recorded on their subscription and tried again
// later.
func (p *Poller) MaintainPush(ctx context.Context) error {
	for {
		due, err := p.db.DuePushes(ctx, p.Now(), pushBatch)
		if err != nil {
			return err
		}
		for _, sub := range due {
			if err := p.pushWork(ctx, sub); err != nil {
				return err
			}
		}
		if len(due) < pushBatch {
			return nil
		}
	}
}

// pushWork does what is due on one subscription.
func (p *Poller) pushWork(ctx context.Context, sub feedmux.Push) error {
	switch sub.State {
	case feedmux.PushSubscribing, feedmux.PushActive:
		return p.requestPush(ctx, sub, "subscribe")
	case feedmux.PushUnsubscribing:
		if p.Push.BaseURL() == "" {
			return p.db.ForgetPush(ctx, sub.CallbackID) // the hub could not verify it
		}
		return p.requestPush(ctx, sub, "unsubscribe")
	}
	// Denied, or unsubscribed and not verified in time: forget it.
	return p.db.ForgetPush(ctx, sub.CallbackID)
}

// requestPush asks sub's hub to subscribe or unsubscribe its callback,
// and records the attempt. The hub verifies the request at the callback,
// perhaps before it answers.
func (p *Poller) requestPush(ctx context.Context, sub feedmux.Push, mode string) error {
	now := p.Now()
	base := p.Push.BaseURL()
	var err error
	if base == "" {
		err = errors.New("[server] base_url is not set: the hub could not reach feedmux")
	} else {
		form := url.Values{
			"hub.mode":     {mode},
			"hub.topic":    {sub.Topic},
			"hub.callback": {base + CallbackPath + sub.CallbackID},
		}
		if mode == "subscribe" {
			form.Set("hub.secret", sub.Secret)
			form.Set("hub.lease_seconds", strconv.FormatInt(int64(p.Push.lease()/time.Second), 10))
		}
		_, err = p.Push.fetcher.Load().PostForm(ctx, sub.Hub, form)
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	// Counted from the attempts since the last verification: a hub that
	// keeps failing, or keeps accepting without verifying, is asked less
	// and less often.
	wait := backoff(pushRetry, sub.Attempts+1, pushMaxRetry)
	msg := ""
	if err != nil {
		msg = mode + " request to the hub failed: " + err.Error()
		var se *StatusError
		if errors.As(err, &se) {
			wait = max(wait, se.RetryAfter)
		}
		p.log.Warn("push: hub request failed", "feed", sub.FeedURL, "hub", sub.Hub, "mode", mode, "error", err)
	} else {
		wait = max(wait, verifyWait)
		p.log.Debug("push: hub request accepted", "feed", sub.FeedURL, "hub", sub.Hub, "mode", mode)
	}
	if mode == "unsubscribe" {
		wait = verifyWait // best effort: forgotten after it, verified or not
	}
	return p.db.PushRequested(context.WithoutCancel(ctx), sub.CallbackID, msg, now.Add(wait))
}

// runPush makes the subscriptions' requests as they fall due, until ctx
// ends.
func (p *Poller) runPush(ctx context.Context) {
	for ctx.Err() == nil {
		wait := time.Hour
		if err := p.MaintainPush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("push: subscriptions not maintained", "error", err)
			wait = cmp.Or(p.StorageRetry, DefaultStorageRetry)
		} else if due, ok, err := p.db.NextPushDue(ctx); err == nil && ok {
			wait = min(max(due.Sub(p.Now()), time.Second), wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-p.Push.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
