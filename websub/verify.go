package websub

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/feedmux/feedmux"
)

// verifyTimeout bounds one verification of intent.
const verifyTimeout = 30 * time.Second

// verify asks the callback to confirm sub with a challenge, and applies
// it when the challenge comes back: a subscription is stored (replacing
// the one of its topic and callback), an unsubscription removed.
func (h *Hub) verify(ctx context.Context, sub subscription) {
	key := subKey{sub.topic, sub.callback}
	err := h.challenge(ctx, sub)
	if err == nil {
		err = h.apply(ctx, sub)
	}
	h.mu.Lock()
	delete(h.pending, key)
	h.mu.Unlock()
	if err != nil {
		h.log.Info("hub: subscription not verified", "mode", sub.mode, "topic", sub.topic, "callback", sub.callback, "error", err)
	} else {
		h.log.Info("hub: subscription verified", "mode", sub.mode, "topic", sub.topic, "callback", sub.callback, "lease", sub.lease)
	}
	if h.OnVerify != nil {
		h.OnVerify(sub.mode, sub.topic, sub.callback, err)
	}
}

// challenge sends the verification of intent: a GET to the callback with
// hub.mode, hub.topic, hub.challenge and hub.lease_seconds added to its
// query. Only a 2xx answer whose body is the challenge confirms.
func (h *Hub) challenge(ctx context.Context, sub subscription) error {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	token := make([]byte, 24)
	rand.Read(token)
	challenge := base64.RawURLEncoding.EncodeToString(token)
	u, err := url.Parse(sub.callback)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("hub.mode", sub.mode)
	q.Set("hub.topic", sub.topic)
	q.Set("hub.challenge", challenge)
	if sub.mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.FormatInt(int64(sub.lease/time.Second), 10))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := h.client.Load().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(challenge))+64))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the callback answered %s", resp.Status)
	}
	if !bytes.Equal(bytes.TrimSpace(body), []byte(challenge)) {
		return fmt.Errorf("the callback answered without the challenge")
	}
	return nil
}

// apply stores a confirmed subscription, noting the version of its topic
// that is current (the next change is the first one sent), or removes a
// confirmed unsubscription.
func (h *Hub) apply(ctx context.Context, sub subscription) error {
	key := subKey{sub.topic, sub.callback}
	// The store and the held subscriptions change together, under mu, so
	// that a delivery recording its outcome (deliver) never brings back a
	// subscription removed meanwhile.
	if sub.mode == "unsubscribe" {
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.store.DeleteHubSubscription(ctx, sub.topic, sub.callback); err != nil {
			return err
		}
		delete(h.subs, key)
		return nil
	}
	doc := h.render(ctx, sub.topic)
	s := feedmux.HubSubscription{
		Topic: sub.topic, Callback: sub.callback, Secret: sub.secret,
		LeaseEnd: h.Now().Add(sub.lease).Truncate(time.Second), Delivered: doc.header.Get("Etag"),
	}
	h.mu.Lock()
	err := h.store.SaveHubSubscription(ctx, s)
	if err == nil {
		h.subs[key] = &s
	}
	h.mu.Unlock()
	if err != nil {
		return err
	}
	h.poke() // a lease end to watch
	return nil
}

// userAgent names feedmux's hub in its requests to callbacks.
const userAgent = "feedmux-websub-hub (+https://github.com/feedmux/feedmux)"

// document is a topic as feedmux serves it.
type document struct {
	status int
	header http.Header
	body   []byte
}

// render asks feedmux's own handler for topic, as a reader without
// Accept-Encoding would: the document exactly as it is served.
func (h *Hub) render(ctx context.Context, topic string) document {
	rec := &recorder{header: http.Header{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, topic, nil)
	if err != nil {
		return document{status: http.StatusBadRequest, body: []byte(err.Error())}
	}
	if req.URL.Scheme == "https" {
		req.Header.Set("X-Forwarded-Proto", "https")
	}
	req.RequestURI = req.URL.RequestURI()
	h.feeds.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return document{status: rec.status, header: rec.header, body: rec.body.Bytes()}
}

// recorder is the http.ResponseWriter render collects a document with.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
