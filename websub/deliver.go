package websub

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/feedmux/feedmux"
)

// retryDelays are the waits before each new attempt at a delivery that
// failed; after the last, the subscription is dropped (about nine hours
// after its first failure).
var retryDelays = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// Delivery bounds.
const (
	deliverTimeout = 30 * time.Second
	deliverWorkers = 8
)

// Run delivers changed documents to their subscribers until ctx ends:
// after each Changed (and once more after Interval, for documents the
// render cache held back), when a failed delivery is due again, and when
// a lease ends.
func (h *Hub) Run(ctx context.Context) error {
	if err := h.load(ctx); err != nil {
		return fmt.Errorf("websub hub: %w", err)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	again := false // a second look Interval after a change
	for {
		next := h.deliverDue(ctx)
		wait := time.Duration(-1)
		if !next.IsZero() {
			wait = max(next.Sub(h.Now()), 0)
		}
		if interval := h.interval(); again && (wait < 0 || interval < wait) {
			wait = interval
		}
		again = false
		timer.Stop()
		var tick <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
			again = h.interval() > 0
		case <-tick:
		}
	}
}

// deliverDue sends each subscribed document that changed since it was
// last delivered, drops the subscriptions whose lease has ended, and
// returns when it must look again (zero: at the next change).
func (h *Hub) deliverDue(ctx context.Context) (next time.Time) {
	if h.Shared {
		if err := h.reload(ctx); err != nil {
			h.log.Error("hub: reading subscriptions", "error", err)
		}
	}
	now := h.Now()
	var due []feedmux.HubSubscription
	h.mu.Lock()
	for key, s := range h.subs {
		if !now.Before(s.LeaseEnd) {
			delete(h.subs, key)
			if err := h.store.DeleteHubSubscription(ctx, s.Topic, s.Callback); err != nil {
				h.log.Error("hub: dropping an ended lease", "topic", s.Topic, "callback", s.Callback, "error", err)
			}
			h.log.Info("hub: lease ended", "topic", s.Topic, "callback", s.Callback)
			continue
		}
		next = earliest(next, s.LeaseEnd)
		if s.NextTry.After(now) {
			next = earliest(next, s.NextTry)
			continue
		}
		due = append(due, *s)
	}
	h.mu.Unlock()
	sortSubs(due)

	var wg sync.WaitGroup
	sem := make(chan struct{}, deliverWorkers)
	docs := map[string]document{} // one render per topic in a pass
	for _, s := range due {
		doc, ok := docs[s.Topic]
		if !ok {
			doc = h.render(ctx, s.Topic)
			docs[s.Topic] = doc
		}
		if doc.status != http.StatusOK || (doc.header.Get("Etag") == s.Delivered && s.Failures == 0) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if retry := h.deliver(ctx, s, doc, now); !retry.IsZero() {
				h.mu.Lock()
				next = earliest(next, retry)
				h.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return next
}

// deliver posts doc to s's callback and records the outcome; it returns
// when a failed delivery is to be tried again.
func (h *Hub) deliver(ctx context.Context, s feedmux.HubSubscription, doc document, now time.Time) (retry time.Time) {
	err := h.post(ctx, s, doc)
	result := "ok"
	if err == nil {
		s.Delivered, s.Failures, s.NextTry, s.LastError = doc.header.Get("Etag"), 0, time.Time{}, ""
	} else {
		s.Failures++
		s.LastError = err.Error()
		result = "failed"
		if s.Failures > len(retryDelays) {
			result = "dropped"
		} else {
			s.NextTry = now.Add(retryDelays[s.Failures-1])
			retry = s.NextTry
		}
	}
	if !h.record(ctx, s, result, err) {
		return time.Time{} // unsubscribed meanwhile
	}
	if h.OnDeliver != nil {
		h.OnDeliver(result)
	}
	return retry
}

// record stores the outcome of a delivery to s, unless s was unsubscribed
// meanwhile (it reports whether s was held). The subscription may have
// been renewed meanwhile: only the delivery fields are the outcome's. The
// held subscriptions and the store change together under mu, as apply
// changes them, so that a delivery in flight never brings back a
// subscription removed meanwhile.
func (h *Hub) record(ctx context.Context, s feedmux.HubSubscription, result string, err error) bool {
	key := subKey{s.Topic, s.Callback}
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, held := h.subs[key]
	if !held {
		return false
	}
	var serr error
	if result == "dropped" {
		delete(h.subs, key)
		h.log.Warn("hub: dropping a subscription whose callback keeps failing", "topic", s.Topic, "callback", s.Callback, "error", err)
		serr = h.store.DeleteHubSubscription(ctx, s.Topic, s.Callback)
	} else {
		cur.Delivered, cur.Failures, cur.NextTry, cur.LastError = s.Delivered, s.Failures, s.NextTry, s.LastError
		s = *cur
		if err != nil {
			h.log.Info("hub: delivery failed", "topic", s.Topic, "callback", s.Callback, "attempt", s.Failures, "retry", s.NextTry, "error", err)
		}
		serr = h.store.SaveHubSubscription(ctx, s)
	}
	if serr != nil {
		h.log.Error("hub: recording a delivery", "topic", s.Topic, "callback", s.Callback, "error", serr)
	}
	return true
}

// post sends a content distribution: the document as served, with its
// Content-Type, its Link headers (hub and self) and, when the subscriber
// gave a secret, X-Hub-Signature. Any 2xx answer is success.
func (h *Hub) post(ctx context.Context, s feedmux.HubSubscription, doc document) error {
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Callback, bytes.NewReader(doc.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", doc.header.Get("Content-Type"))
	req.Header["Link"] = doc.header["Link"]
	if s.Secret != "" {
		req.Header.Set(feedmux.SignatureHeader, feedmux.HubSignature([]byte(s.Secret), doc.body))
	}
	return send(h.client.Load(), req, "the callback")
}

// send makes a POST whose only answer that matters is its status: any 2xx
// is success; the body is read (a little of it) and dropped.
func send(client *http.Client, req *http.Request, who string) error {
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", who, resp.Status)
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func sortSubs(subs []feedmux.HubSubscription) {
	slices.SortFunc(subs, func(a, b feedmux.HubSubscription) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Callback, b.Callback))
	})
}
