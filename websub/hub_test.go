package websub_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/storage/sqlite"
	"github.com/feedmux/feedmux/websub"
)

// patience only stops a hung test; no verdict depends on it.
const patience = time.Minute

var t0 = time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the hub, the server and storage.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// site is a feedmux server with its hub, on loopback.
type site struct {
	db       *sqlite.DB
	srv      *server.Server
	hub      *websub.Hub
	ts       *httptest.Server
	front    *atomic.Pointer[http.Handler]
	clock    *clock
	verified chan error
	results  chan string
	cancel   context.CancelFunc
	done     chan struct{}
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// newSite opens the database at path and starts a hub whose callbacks
// may reach allow.
func newSite(t *testing.T, path string, allow []netip.Prefix, limits websub.Limits) *site {
	t.Helper()
	s := &site{clock: &clock{now: t0}, verified: make(chan error, 16), results: make(chan string, 64)}
	var front atomic.Pointer[http.Handler]
	s.front = &front
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*front.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.ts.Close)
	s.start(t, path, allow, limits)
	return s
}

// start opens the database and starts the server and the hub behind the
// site's address: again after stop, a restart.
func (s *site) start(t *testing.T, path string, allow []netip.Prefix, limits websub.Limits) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.db = db
	db.Now = s.clock.Now
	log := slog.New(slog.DiscardHandler)
	s.srv = server.New(db, log)
	s.srv.Now = s.clock.Now
	s.srv.Configure(server.Config{BaseURL: s.ts.URL, MaxAge: time.Minute})
	client := aggregator.NewFetcher(aggregator.FetcherConfig{Guard: aggregator.NewGuard(allow)}).Client()
	s.hub = websub.New(db, s.srv.Handler(), client, limits, log)
	s.hub.Now = s.clock.Now
	s.hub.OnVerify = func(_, _, _ string, err error) { s.verified <- err }
	s.hub.OnDeliver = func(result string) { s.results <- result }
	mux := http.NewServeMux()
	mux.Handle(server.HubPath, s.hub)
	mux.Handle("/", s.srv.Handler())
	var h http.Handler = mux
	s.front.Store(&h)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() { defer close(s.done); s.hub.Run(ctx) }()
	t.Cleanup(s.stop)
}

// stop stops the hub and closes the database; a second call does nothing.
func (s *site) stop() {
	if s.db == nil {
		return
	}
	s.cancel()
	<-s.done
	s.hub.Close()
	s.db.Close()
	s.db = nil
}

// add stores an item tagged x and tells the server and the hub, as the
// poller does.
func (s *site) add(t *testing.T, title string) {
	t.Helper()
	feed := feedmux.Feed{URL: "https://source.example/feed", Title: "Source"}
	if err := s.db.SyncFeeds(t.Context(), []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	it := feedmux.Item{
		Key: title, Title: title, URL: "https://source.example/" + url.PathEscape(title),
		Published: s.clock.Now(), Tags: []string{"x"},
		Source: feedmux.Source{URL: feed.URL, Title: feed.Title},
	}
	res, err := s.db.SaveItems(t.Context(), feedmux.FeedState{URL: feed.URL, LastPoll: s.clock.Now()}, []feedmux.Item{it})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Invalidate(res.Tags)
	s.hub.Changed(res.Tags)
}

// request sends a subscription request to the hub.
func (s *site) request(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(s.ts.URL+server.HubPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *site) waitVerify(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.verified:
		return err
	case <-time.After(patience):
		t.Fatal("no verification of intent")
		return nil
	}
}

func (s *site) waitResult(t *testing.T) string {
	t.Helper()
	select {
	case r := <-s.results:
		return r
	case <-time.After(patience):
		t.Fatal("no delivery")
		return ""
	}
}

// subscriber is a WebSub subscriber written from the Recommendation, not
// from the hub: it confirms only the topic it asked for, and checks each
// content distribution's signature itself.
type subscriber struct {
	ts       *httptest.Server
	topic    string
	secret   string
	fail     atomic.Bool // answer content distributions 500
	requests atomic.Int32
	pushes   chan push
}

type push struct {
	header http.Header
	body   []byte
	signed bool
}

func newSubscriber(t *testing.T, topic, secret string) *subscriber {
	sub := &subscriber{topic: topic, secret: secret, pushes: make(chan push, 16)}
	sub.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub.requests.Add(1)
		q := r.URL.Query()
		switch r.Method {
		case http.MethodGet:
			if q.Get("hub.topic") != sub.topic || q.Get("hub.challenge") == "" || q.Get("keep") != "1" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, q.Get("hub.challenge"))
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			if sub.fail.Load() {
				http.Error(w, "down", http.StatusInternalServerError)
				return
			}
			m := hmac.New(sha256.New, []byte(sub.secret))
			m.Write(body)
			sig := "sha256=" + hex.EncodeToString(m.Sum(nil))
			sub.pushes <- push{header: r.Header, body: body, signed: r.Header.Get("X-Hub-Signature") == sig}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(sub.ts.Close)
	return sub
}

func (sub *subscriber) callback() string { return sub.ts.URL + "/cb?keep=1" }

func (sub *subscriber) form(mode string) url.Values {
	return url.Values{"hub.mode": {mode}, "hub.topic": {sub.topic}, "hub.callback": {sub.callback()},
		"hub.secret": {sub.secret}, "hub.lease_seconds": {"86400"}}
}

func (sub *subscriber) wait(t *testing.T) push {
	t.Helper()
	select {
	case p := <-sub.pushes:
		return p
	case <-time.After(patience):
		t.Fatal("the subscriber was sent nothing")
		return push{}
	}
}

// subscribe makes sub a verified subscriber of s's hub.
func subscribe(t *testing.T, s *site, sub *subscriber) {
	t.Helper()
	if code, msg := s.request(t, sub.form("subscribe")); code != http.StatusAccepted {
		t.Fatalf("subscribe answered %d %s, want 202", code, msg)
	}
	if err := s.waitVerify(t); err != nil {
		t.Fatalf("verification of intent failed: %v", err)
	}
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "feedmux.db") }

// TestHub_Subscribe: a verified subscriber of /tags/x.atom is sent each
// new version, exactly as served and correctly signed, and the
// subscription survives a restart; one that did not ask is not verified.
func TestHub_Subscribe(t *testing.T) {
	path := dbPath(t)
	s := newSite(t, path, loopback, websub.Limits{})
	s.add(t, "First report")
	sub := newSubscriber(t, s.ts.URL+"/tags/x.atom", "s3cret")
	subscribe(t, s, sub)

	s.add(t, "Ceasefire talks resume in Cairo")
	p := sub.wait(t)
	if !p.signed {
		t.Errorf("X-Hub-Signature %q does not sign the body", p.header.Get("X-Hub-Signature"))
	}
	if !strings.Contains(string(p.body), "Ceasefire talks resume in Cairo") {
		t.Errorf("the delivery lacks the new item:\n%s", p.body)
	}
	if ct := p.header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	link := strings.Join(p.header.Values("Link"), ", ")
	if !strings.Contains(link, "<"+s.ts.URL+`/websub>; rel="hub"`) || !strings.Contains(link, "<"+sub.topic+`>; rel="self"`) {
		t.Errorf("Link %q lacks the hub and self", link)
	}
	served, err := http.Get(sub.topic)
	if err != nil {
		t.Fatal(err)
	}
	defer served.Body.Close()
	if b, _ := io.ReadAll(served.Body); string(b) != string(p.body) {
		t.Errorf("the delivery differs from the document served")
	}

	// Another subscriber's request for a topic it did not ask for.
	other := newSubscriber(t, s.ts.URL+"/tags/x.atom", "")
	form := other.form("subscribe")
	form.Set("hub.topic", s.ts.URL+"/all.atom")
	if code, _ := s.request(t, form); code != http.StatusAccepted {
		t.Fatalf("a well-formed request answered %d", code)
	}
	if err := s.waitVerify(t); err == nil {
		t.Errorf("a subscriber that did not ask for %s was verified", form.Get("hub.topic"))
	}
	if n := len(s.hub.Subscriptions()); n != 1 {
		t.Errorf("%d subscriptions, want 1", n)
	}

	// A restart keeps the subscription.
	s.stop()
	s.start(t, path, loopback, websub.Limits{})
	s.add(t, "Second round of talks")
	if p := sub.wait(t); !p.signed || !strings.Contains(string(p.body), "Second round of talks") {
		t.Errorf("after a restart: signed %v, body:\n%s", p.signed, p.body)
	}

	// Unsubscribing is verified too, and ends the deliveries.
	if code, msg := s.request(t, sub.form("unsubscribe")); code != http.StatusAccepted {
		t.Fatalf("unsubscribe answered %d %s", code, msg)
	}
	if err := s.waitVerify(t); err != nil {
		t.Fatal(err)
	}
	if subs, _ := s.db.HubSubscriptions(t.Context()); len(subs) != 0 {
		t.Errorf("after unsubscribing: %v", subs)
	}
}
