package websub

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux/server"
)

// subscription is a well-formed subscription request.
type subscription struct {
	mode     string // "subscribe" or "unsubscribe"
	topic    string
	callback string
	secret   string
	lease    time.Duration
}

// maxURL bounds hub.topic and hub.callback.
const maxURL = 2048

// errRefused is a request the hub declines for its limits, not its form.
var errRefused = errors.New("refused")

// ServeHTTP answers a subscription request (POST, form-encoded): 202 once
// it is well-formed and within the limits, then verifies intent with the
// callback. Anything else is answered 4xx with what is wrong, and no
// callback is contacted.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the hub takes subscription requests: POST hub.mode, hub.topic and hub.callback", http.StatusMethodNotAllowed)
		return
	}
	if err := h.load(r.Context()); err != nil {
		h.log.Error("hub: reading subscriptions", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "a subscription request is a form: Content-Type application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form does not parse: "+err.Error(), http.StatusBadRequest)
		return
	}
	sub, err := h.parse(r)
	if err == nil {
		err = h.checkTopic(r.Context(), sub.topic, server.BaseURL(h.base(), r))
	}
	if err == nil {
		err = h.reserve(sub)
	}
	if errors.Is(err, errRefused) {
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.verify(h.life, sub) // beyond the request: the subscriber's answer is not waited for
	}()
	w.WriteHeader(http.StatusAccepted)
}

// parse reads a request's hub.* parameters, bounding the lease.
func (h *Hub) parse(r *http.Request) (subscription, error) {
	f := r.PostForm
	sub := subscription{mode: f.Get("hub.mode"), topic: f.Get("hub.topic"), callback: f.Get("hub.callback"), secret: f.Get("hub.secret")}
	if sub.mode != "subscribe" && sub.mode != "unsubscribe" {
		return sub, fmt.Errorf("hub.mode must be subscribe or unsubscribe, not %q", sub.mode)
	}
	if err := checkURL("hub.callback", sub.callback); err != nil {
		return sub, err
	}
	if err := checkURL("hub.topic", sub.topic); err != nil {
		return sub, err
	}
	if len(sub.secret) >= 200 {
		return sub, fmt.Errorf("hub.secret must be less than 200 bytes")
	}
	sub.lease = h.limits.DefaultLease
	if s := f.Get("hub.lease_seconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return sub, fmt.Errorf("hub.lease_seconds must be a positive number of seconds, not %q", s)
		}
		sub.lease = min(max(time.Duration(min(n, 1<<32))*time.Second, h.limits.MinLease), h.limits.MaxLease)
	}
	return sub, nil
}

// checkURL accepts an absolute http or https URL without a fragment.
func checkURL(name, s string) error {
	if s == "" {
		return fmt.Errorf("%s is required", name)
	}
	if len(s) > maxURL {
		return fmt.Errorf("%s is longer than %d bytes", name, maxURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%s must be an absolute http or https URL without user or fragment, not %q", name, s)
	}
	return nil
}

// checkTopic accepts a topic that is one of feedmux's feeds, under base,
// served as a feed now.
func (h *Hub) checkTopic(ctx context.Context, topic, base string) error {
	if !strings.HasPrefix(topic, base+"/") {
		return fmt.Errorf("hub.topic %s is not a feed of this feedmux (its feeds are under %s/)", topic, base)
	}
	doc := h.render(ctx, topic)
	if doc.status != http.StatusOK {
		return fmt.Errorf("hub.topic %s is not a feed: it answers %d %s", topic, doc.status, strings.TrimSpace(string(doc.body)))
	}
	if !strings.Contains(doc.header.Get("Content-Type"), "xml") && !strings.Contains(doc.header.Get("Content-Type"), "json") {
		return fmt.Errorf("hub.topic %s is not a feed: it is %s", topic, doc.header.Get("Content-Type"))
	}
	return nil
}

// reserve counts a subscription being verified against the limits; a
// renewal of a subscription the hub holds, and any unsubscription, pass.
func (h *Hub) reserve(sub subscription) error {
	key := subKey{sub.topic, sub.callback}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[key] {
		return fmt.Errorf("%w: the same subscription request is being verified", errRefused)
	}
	if _, held := h.subs[key]; !held && sub.mode == "subscribe" {
		host := callbackHost(sub.callback)
		perHost := 0
		for k := range h.subs {
			if callbackHost(k.callback) == host {
				perHost++
			}
		}
		for k := range h.pending {
			if callbackHost(k.callback) == host {
				perHost++
			}
		}
		if len(h.subs)+len(h.pending) >= h.limits.MaxSubscriptions {
			return fmt.Errorf("%w: the hub holds its limit of %d subscriptions", errRefused, h.limits.MaxSubscriptions)
		}
		if perHost >= h.limits.MaxPerHost {
			return fmt.Errorf("%w: %s holds its limit of %d subscriptions", errRefused, host, h.limits.MaxPerHost)
		}
	}
	h.pending[key] = true
	return nil
}

func callbackHost(callback string) string {
	u, err := url.Parse(callback)
	if err != nil {
		return callback
	}
	return strings.ToLower(u.Hostname())
}
