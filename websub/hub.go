// Package websub is feedmux's own WebSub hub (W3C Recommendation, 23
// January 2018): readers subscribe to any feedmux feed and are sent each
// new version of it, exactly as it would be served, the moment it changes.
//
// A subscription request is checked whole before any callback is
// contacted; the hub then verifies the subscriber's intent with a GET to
// the callback and stores the subscription only when the challenge comes
// back. Callbacks are other people's addresses: every request to one goes
// through the client the hub is given, which carries the network guard.
package websub

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// Store keeps the hub's verified subscriptions, so that a restart loses
// none. *storage.DB is one.
type Store interface {
	HubSubscriptions(ctx context.Context) ([]feedmux.HubSubscription, error)
	SaveHubSubscription(ctx context.Context, s feedmux.HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error
}

// Limits bound what subscribers may ask of the hub; zero values take the
// defaults.
type Limits struct {
	MaxSubscriptions int // in all, verified or being verified
	MaxPerHost       int // per callback host
	MinLease         time.Duration
	MaxLease         time.Duration
	DefaultLease     time.Duration // when a request names no hub.lease_seconds
}

// Default limits.
const (
	DefaultMaxSubscriptions = 10000
	DefaultMaxPerHost       = 100
	DefaultMinLease         = time.Hour
	DefaultMaxLease         = 30 * 24 * time.Hour
	DefaultLease            = 10 * 24 * time.Hour
)

func (l Limits) withDefaults() Limits {
	if l.MaxSubscriptions <= 0 {
		l.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if l.MaxPerHost <= 0 {
		l.MaxPerHost = DefaultMaxPerHost
	}
	if l.MinLease <= 0 {
		l.MinLease = DefaultMinLease
	}
	if l.MaxLease < l.MinLease {
		l.MaxLease = max(DefaultMaxLease, l.MinLease)
	}
	if l.DefaultLease <= 0 {
		l.DefaultLease = DefaultLease
	}
	l.DefaultLease = min(max(l.DefaultLease, l.MinLease), l.MaxLease)
	return l
}

// Hub is feedmux's WebSub hub. Serve its ServeHTTP at server.HubPath, call
// Changed after every change of stored items, and run Run.
type Hub struct {
	store  Store
	feeds  http.Handler // serves the topics: feedmux's own handler
	log    *slog.Logger
	limits Limits
	client atomic.Pointer[http.Client]

	// Base, when set, returns the configured public URL ([server]
	// base_url); when it returns "", a topic must be under the scheme and
	// host the request came to.
	Base func() string
	// Interval, when set, returns the server's render interval: a
	// document changed less than this after it was rendered is served as
	// it was until then, so the hub looks again once it has passed.
	Interval func() time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Shared says other processes share the store and verify
	// subscriptions too: Run reads them from the store at each pass. Run
	// only in the one process elected to deliver.
	Shared bool
	// OnVerify, when set, is called after each verification of intent:
	// nil when the subscriber confirmed it.
	OnVerify func(mode, topic, callback string, err error)
	// OnDeliver, when set, is called after each delivery attempt with
	// its outcome: "ok", "failed" or "dropped" (failed for the last time).
	OnDeliver func(result string)

	mu      sync.Mutex
	subs    map[subKey]*feedmux.HubSubscription
	pending map[subKey]bool // being verified
	loaded  bool
	wake    chan struct{}
	wg      sync.WaitGroup // verifications in flight
	// life ends with Close: verifications in flight stop with it.
	life context.Context
	end  context.CancelFunc
}

type subKey struct{ topic, callback string }

// New returns a hub that keeps its subscriptions in store, renders topics
// with feeds and contacts callbacks with client, which must refuse the
// addresses subscribers may not reach.
func New(store Store, feeds http.Handler, client *http.Client, limits Limits, log *slog.Logger) *Hub {
	h := &Hub{
		store: store, feeds: feeds, log: log.With("component", "websub"), limits: limits.withDefaults(),
		Now: time.Now, subs: map[subKey]*feedmux.HubSubscription{}, pending: map[subKey]bool{},
		wake: make(chan struct{}, 1),
	}
	h.life, h.end = context.WithCancel(context.Background())
	h.client.Store(client)
	return h
}

// SetClient replaces the client callbacks are contacted with, for a
// configuration reload.
func (h *Hub) SetClient(c *http.Client) { h.client.Store(c) }

// Changed tells the hub that stored items changed: every subscribed
// document is looked at again, and sent where it changed.
func (h *Hub) Changed([]string) { h.poke() }

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Subscriptions returns the verified subscriptions, by topic and callback.
func (h *Hub) Subscriptions() []feedmux.HubSubscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]feedmux.HubSubscription, 0, len(h.subs))
	for _, s := range h.subs {
		out = append(out, *s)
	}
	sortSubs(out)
	return out
}

// load reads the stored subscriptions once, before the hub answers or
// delivers anything.
func (h *Hub) load(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded {
		return nil
	}
	subs, err := h.store.HubSubscriptions(ctx)
	if err != nil {
		return err
	}
	for i := range subs {
		s := subs[i]
		h.subs[subKey{s.Topic, s.Callback}] = &s
	}
	h.loaded = true
	return nil
}

func (h *Hub) base() string {
	if h.Base == nil {
		return ""
	}
	return h.Base()
}

func (h *Hub) interval() time.Duration {
	if h.Interval == nil {
		return 0
	}
	return h.Interval()
}

// reload replaces the subscriptions with the store's, for a hub whose
// store other processes write to.
func (h *Hub) reload(ctx context.Context) error {
	subs, err := h.store.HubSubscriptions(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.subs)
	for i := range subs {
		s := subs[i]
		h.subs[subKey{s.Topic, s.Callback}] = &s
	}
	h.loaded = true
	return nil
}

// Close stops the verifications in flight and waits for them: for a
// shutdown, after Run has returned.
func (h *Hub) Close() {
	h.end()
	h.wg.Wait()
}
