package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/feedmux/feedmux"
)

// pushTimeout bounds the reading and storing of one pushed document, so
// that a hub is never held long; a document that takes longer is dropped
// (with a 503, so the hub may send it again) and the next poll brings it.
const pushTimeout = 20 * time.Second

// Callback answers WebSub hubs at {base_url}/websub/callback/{id}: GET for
// the verification of intent (and denials), POST for content
// distribution. Mount it for both methods; the id is the path's last
// segment (or its "id" wildcard).
type Callback struct{ p *Poller }

// Callback returns the handler of the poller's WebSub callbacks. The
// poller must have a Push subscriber.
func (p *Poller) Callback() *Callback { return &Callback{p: p} }

func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		id = path.Base(r.URL.Path)
	}
	switch r.Method {
	case http.MethodGet:
		c.verify(w, r, id)
	case http.MethodPost:
		c.distribute(w, r, id)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify answers a hub's verification of intent (section 5.3): the
// challenge, with 200, only when the callback is one feedmux made, for
// the topic it asked at it, in the mode it asked for; 404 otherwise. A
// denial (section 5.2) is recorded.
func (c *Callback) verify(w http.ResponseWriter, r *http.Request, id string) {
	p := c.p
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	sub, err := p.db.PushByCallback(r.Context(), id)
	if errors.Is(err, feedmux.ErrUnknownCallback) || (err == nil && sub.Topic != topic) {
		p.log.Debug("push: verification refused", "callback", id, "mode", mode, "topic", topic)
		http.NotFound(w, r)
		return
	}
	if err != nil {
		callbackError(w, p, r, err)
		return
	}
	subscribing := sub.State == feedmux.PushSubscribing || sub.State == feedmux.PushActive
	unsubscribing := sub.State == feedmux.PushUnsubscribing || sub.State == feedmux.PushUnsubscribed
	now := p.Now()
	switch {
	case mode == "subscribe" && subscribing && challenge != "":
		lease := p.Push.lease()
		if n, err := strconv.ParseInt(q.Get("hub.lease_seconds"), 10, 64); err == nil && n > 0 {
			lease = time.Duration(min(n, 1<<32)) * time.Second
		}
		err = p.db.PushVerified(r.Context(), id, now, lease, renewAt(now.Add(lease), lease))
		p.log.Info("push: subscription verified", "feed", sub.FeedURL, "hub", sub.Hub, "lease", lease)
	case mode == "unsubscribe" && unsubscribing && challenge != "":
		err = p.db.ForgetPush(r.Context(), id)
		p.log.Info("push: cancellation verified", "feed", sub.FeedURL, "hub", sub.Hub)
	case mode == "denied" && subscribing:
		reason := q.Get("hub.reason")
		err = p.db.PushDenied(r.Context(), id, fmt.Sprintf("the hub denied the subscription (%s); polling goes on", reason), now.Add(deniedWait))
		p.log.Warn("push: subscription denied by the hub", "feed", sub.FeedURL, "hub", sub.Hub, "reason", reason)
		challenge = "ok"
	default:
		p.log.Debug("push: verification refused", "callback", id, "mode", mode, "state", sub.State)
		http.NotFound(w, r)
		return
	}
	if err != nil {
		callbackError(w, p, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, challenge)
}

// distribute takes a hub's content distribution (section 7): a document
// signed with the subscription's secret is read and stored as a polled
// one would be, adding and updating items, never removing any; one
// without a valid X-Hub-Signature is acknowledged, as the Recommendation
// asks (so that the hub does not send it again), and discarded.
func (c *Callback) distribute(w http.ResponseWriter, r *http.Request, id string) {
	p := c.p
	sub, err := p.db.PushByCallback(r.Context(), id)
	switch {
	case errors.Is(err, feedmux.ErrUnknownCallback):
		http.Error(w, "no such subscription", http.StatusGone) // section 7: the hub may drop it
		return
	case err != nil:
		callbackError(w, p, r, err)
		return
	}
	feed, ok := p.configured(sub.FeedURL)
	if !ok || (sub.State != feedmux.PushSubscribing && sub.State != feedmux.PushActive) {
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	select {
	case p.Push.busy <- struct{}{}:
		defer func() { <-p.Push.busy }()
	default:
		// Bodies in memory are bounded: the hub sends it again later.
		w.Header().Set("Retry-After", "10")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	maxBody := p.fetcher.Load().maxBody
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		p.log.Warn("push: document too large", "feed", feed.URL, "hub", sub.Hub, "max_body", maxBody)
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		return // the hub went away
	}
	// Counted, not logged above debug: anyone can post to a callback.
	if !feedmux.VerifyHubSignature(r.Header.Get(feedmux.SignatureHeader), []byte(sub.Secret), body) {
		p.log.Debug("push: document discarded: wrong or missing signature", "feed", feed.URL, "hub", sub.Hub)
		if err := p.db.CountPush(r.Context(), id, false, p.Now()); err != nil {
			p.log.Warn("push: not counted", "feed", feed.URL, "error", err)
		}
		if p.Push.OnPush != nil {
			p.Push.OnPush(feed, false)
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), pushTimeout)
	defer cancel()
	res, err := p.receive(ctx, feed, sub, body, r.Header.Get("Content-Type"))
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, feedmux.ErrStorage) {
		p.log.Warn("push: document not stored", "feed", feed.URL, "error", err)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "not stored, send it again later", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		// A document that does not read is the hub's or the source's
		// fault, not a reason for the hub to send it again.
		p.log.Warn("push: document not read", "feed", feed.URL, "hub", sub.Hub, "error", err)
	} else {
		p.log.Debug("push: stored", "feed", feed.URL, "hub", sub.Hub, "bytes", len(body), "new", res.Inserted, "updated", res.Updated)
		if err := p.db.CountPush(r.Context(), id, true, p.Now()); err != nil {
			p.log.Warn("push: not counted", "feed", feed.URL, "error", err)
		}
	}
	if p.Push.OnPush != nil {
		p.Push.OnPush(feed, err == nil)
	}
	w.WriteHeader(http.StatusAccepted)
}

// receive reads and stores a document sub's hub pushed for feed, through
// the path of a polled document (read, then stored and announced as a
// poll's items are), but adding and updating items only: the feed's
// state (validators, schedule, errors) stays the poll's, and a pushed
// document holding only the new entries removes nothing.
func (p *Poller) receive(ctx context.Context, feed feedmux.Feed, sub feedmux.Push, body []byte, contentType string) (Result, error) {
	st, err := p.db.FeedState(ctx, feed.URL)
	if err != nil {
		return Result{}, err
	}
	// st is a scratch copy: what read records in it is never stored.
	target := feed.URL
	if st.CurrentURL != "" {
		target = st.CurrentURL
	}
	var f fetched
	d := document{body: body, contentType: contentType, url: sub.Topic, pushed: true}
	if _, err := p.read(ctx, feed, &st, target, d, &f); err != nil {
		return Result{}, err
	}
	saved, err := p.db.AddItems(context.WithoutCancel(ctx), feed.URL, f.items)
	if err != nil {
		return Result{}, err
	}
	// The memo of unchanged items stays the last poll's: a partial
	// document is not what the feed holds.
	p.stored(feed, saved)
	return Result{Bytes: len(body), Inserted: saved.Inserted, Updated: saved.Updated, Warning: f.warning}, nil
}

// configured returns the configured feed with url.
func (p *Poller) configured(url string) (feedmux.Feed, bool) {
	for _, f := range p.Feeds() {
		if f.URL == url {
			return f, true
		}
	}
	return feedmux.Feed{}, false
}

func callbackError(w http.ResponseWriter, p *Poller, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	p.log.Error("push: callback failed", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
