package aggregator_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// testHub is a minimal WebSub hub written for these tests from the
// Recommendation (sections 5 to 7), sharing no code with feedmux: it
// accepts subscription requests with 202 and hands them to the test,
// which then has it verify intent (GET the callback with a challenge) and
// distribute content (POST to the callback, signed with HMAC-SHA256 of
// the subscriber's secret).
type testHub struct {
	*httptest.Server
	requests chan url.Values
	hits     atomic.Int64
}

func newTestHub(t testing.TB) *testHub {
	t.Helper()
	h := &testHub{requests: make(chan url.Values, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mode, cb := r.PostForm.Get("hub.mode"), r.PostForm.Get("hub.callback")
		if (mode != "subscribe" && mode != "unsubscribe") || r.PostForm.Get("hub.topic") == "" || cb == "" {
			http.Error(w, "hub.mode, hub.topic and hub.callback are required", http.StatusBadRequest)
			return
		}
		h.requests <- r.PostForm
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

// request returns the next subscription request the hub received; the
// subscriber makes its requests synchronously, so one made is here.
func (h *testHub) request(t testing.TB) url.Values {
	t.Helper()
	select {
	case form := <-h.requests:
		return form
	default:
		t.Fatal("the hub received no request")
		return nil
	}
}

func (h *testHub) noRequest(t testing.TB) {
	t.Helper()
	select {
	case form := <-h.requests:
		t.Fatalf("the hub received a request: %v", form)
	default:
	}
}

// verify has the hub verify intent for form's callback in mode, for
// topic, granting leaseSeconds: it returns the status and whether the
// body echoed the challenge.
func (h *testHub) verify(t testing.TB, form url.Values, mode, topic string, leaseSeconds int) (int, bool) {
	t.Helper()
	challenge := rand.Text()
	u, err := url.Parse(form.Get("hub.callback"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("hub.mode", mode)
	q.Set("hub.topic", topic)
	q.Set("hub.challenge", challenge)
	if mode == "subscribe" {
		q.Set("hub.lease_seconds", fmt.Sprint(leaseSeconds))
	}
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body) == challenge
}

// deny has the hub tell the callback that the subscription was denied.
func (h *testHub) deny(t testing.TB, form url.Values, reason string) int {
	t.Helper()
	q := url.Values{"hub.mode": {"denied"}, "hub.topic": {form.Get("hub.topic")}, "hub.reason": {reason}}
	resp, err := http.Get(form.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// publish has the hub distribute body to form's callback, signed with
// secret ("": unsigned).
func (h *testHub) publish(t testing.TB, form url.Values, secret, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, form.Get("hub.callback"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/atom+xml")
	req.Header.Set("Link", fmt.Sprintf(`<%s>; rel="hub", <%s>; rel="self"`, h.URL, form.Get("hub.topic")))
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(body))
		req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// atomFeed is an Atom document naming hub (unless "") and self, with one
// entry per title.
func atomFeed(hub, self string, titles ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Pushed</title><id>urn:x:pushed</id><updated>2024-03-26T10:00:00Z</updated>`)
	if hub != "" {
		fmt.Fprintf(&b, `<link rel="hub" href="%s"/>`, hub)
	}
	fmt.Fprintf(&b, `<link rel="self" href="%s"/>`, self)
	for _, title := range titles {
		fmt.Fprintf(&b, `<entry><title>%s</title><id>urn:x:%s</id><link href="http://site.test/%s"/><updated>2024-03-26T10:00:00Z</updated></entry>`,
			title, title, title)
	}
	b.WriteString(`</feed>`)
	return b.String()
}

// pushRig is a source naming a test hub, and a poller with a subscriber
// whose callbacks are served over loopback.
type pushRig struct {
	p        *aggregator.Poller
	db       *sqlite.DB
	hub      *testHub
	feed     feedmux.Feed
	source   atomic.Value // the source's document
	polls    atomic.Int64 // requests to the source
	now      atomic.Pointer[time.Time]
	callback *httptest.Server
	pushes   atomic.Int64 // OnPush calls, accepted
	rejected atomic.Int64 // OnPush calls, rejected
	dbPath   string
}

func (r *pushRig) clock() time.Time { return *r.now.Load() }

func (r *pushRig) setClock(t time.Time) { r.now.Store(&t) }

// newPushRig starts a hub, a source naming it and a callback server. The
// subscriber's guard allows allow; its base URL is the callback server's
// unless noBase.
func newPushRig(t *testing.T, allow []string, noBase bool) *pushRig {
	t.Helper()
	r := &pushRig{hub: newTestHub(t), dbPath: filepath.Join(t.TempDir(), "feedmux.db")}
	r.setClock(t0)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.polls.Add(1)
		w.Header().Set("Content-Type", "application/atom+xml")
		io.WriteString(w, r.source.Load().(string))
	}))
	t.Cleanup(src.Close)
	r.feed = feedmux.Feed{URL: src.URL + "/feed", Tags: []string{"pushed"}, Interval: 15 * time.Minute}
	r.source.Store(atomFeed(r.hub.URL, r.feed.URL, "A"))
	mux := http.NewServeMux()
	r.callback = httptest.NewServer(mux)
	t.Cleanup(r.callback.Close)
	r.open(t, allow, noBase)
	mux.Handle("/websub/callback/{id}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.p.Callback().ServeHTTP(w, req)
	}))
	return r
}

// open (re)opens the database and builds a poller on it.
func (r *pushRig) open(t *testing.T, allow []string, noBase bool) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), r.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = r.clock
	var nets []netip.Prefix
	for _, a := range allow {
		nets = append(nets, netip.MustParsePrefix(a))
	}
	guarded := aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: 5 * time.Second, Guard: aggregator.NewGuard(nets)})
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: 5 * time.Second}), slog.New(slog.DiscardHandler))
	p.Now = r.clock
	base := r.callback.URL
	if noBase {
		base = ""
	}
	p.Push = aggregator.NewSubscriber(guarded, base)
	p.Push.OnPush = func(_ feedmux.Feed, accepted bool) {
		if accepted {
			r.pushes.Add(1)
		} else {
			r.rejected.Add(1)
		}
	}
	p.SetFeeds([]feedmux.Feed{r.feed})
	if err := db.SyncFeeds(t.Context(), []feedmux.Feed{r.feed}); err != nil {
		t.Fatal(err)
	}
	r.p, r.db = p, db
}

func (r *pushRig) poll(t *testing.T) aggregator.Result {
	t.Helper()
	res, err := r.p.Poll(t.Context(), r.feed)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (r *pushRig) maintain(t *testing.T) {
	t.Helper()
	if err := r.p.MaintainPush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (r *pushRig) state(t *testing.T) feedmux.FeedState {
	t.Helper()
	st, err := r.db.FeedState(t.Context(), r.feed.URL)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (r *pushRig) titles(t *testing.T) []string {
	t.Helper()
	page, err := r.db.ItemPage(t.Context(), feedmux.ItemFilter{Tags: []string{"pushed"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.Title)
	}
	slices.Sort(out)
	return out
}

// subscribed polls the source, lets the subscriber ask the hub, and has
// the hub verify the request, granting leaseSeconds.
func (r *pushRig) subscribed(t *testing.T, leaseSeconds int) url.Values {
	t.Helper()
	r.poll(t)
	r.maintain(t)
	form := r.hub.request(t)
	if code, ok := r.hub.verify(t, form, "subscribe", form.Get("hub.topic"), leaseSeconds); code != 200 || !ok {
		t.Fatalf("verification of intent = %d (challenge echoed: %v), want 200 with the challenge", code, ok)
	}
	return form
}

func TestPush_SubscribeVerifyDistribute(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, false)
	r.poll(t)
	if st := r.state(t); st.Push.State != feedmux.PushSubscribing || st.Push.Hub != r.hub.URL || st.Push.Topic != r.feed.URL {
		t.Fatalf("after the first poll: push %+v, want subscribing at %s for %s", st.Push, r.hub.URL, r.feed.URL)
	}
	r.maintain(t)
	form := r.hub.request(t)
	cb := form.Get("hub.callback")
	if form.Get("hub.mode") != "subscribe" || form.Get("hub.topic") != r.feed.URL ||
		!strings.HasPrefix(cb, r.callback.URL+"/websub/callback/") || len(cb) <= len(r.callback.URL+"/websub/callback/") {
		t.Errorf("subscription request %v: want mode subscribe, topic %s, a callback under %s/websub/callback/", form, r.feed.URL, r.callback.URL)
	}
	secret := form.Get("hub.secret")
	if len(secret) < 16 || len(secret) >= 200 || form.Get("hub.lease_seconds") != "864000" {
		t.Errorf("hub.secret of %d bytes, hub.lease_seconds %q: want 16 to 199 bytes, 864000", len(secret), form.Get("hub.lease_seconds"))
	}

	// Verification of intent: only for the topic asked, in the mode asked.
	for _, c := range []struct{ name, mode, topic string }{
		{"another topic", "subscribe", r.feed.URL + "?other"},
		{"a mode not asked for", "unsubscribe", r.feed.URL},
	} {
		if code, ok := r.hub.verify(t, form, c.mode, c.topic, 3600); code/100 == 2 || ok {
			t.Errorf("verification for %s = %d (challenge echoed: %v), want a refusal", c.name, code, ok)
		}
	}
	unknown := url.Values{"hub.callback": {r.callback.URL + "/websub/callback/not-ours"}}
	if code, ok := r.hub.verify(t, unknown, "subscribe", r.feed.URL, 3600); code != 404 || ok {
		t.Errorf("verification at a callback feedmux did not make = %d, want 404", code)
	}
	if st := r.state(t); st.Push.State != feedmux.PushSubscribing {
		t.Fatalf("refused verifications changed the subscription: %+v", st.Push)
	}
	if code, ok := r.hub.verify(t, form, "subscribe", r.feed.URL, 5*86400); code != 200 || !ok {
		t.Fatalf("verification of intent = %d (challenge echoed: %v), want 200 with the challenge", code, ok)
	}
	st := r.state(t)
	if !st.Push.Active(t0) || !st.Push.LeaseEnd.Equal(t0.Add(5*24*time.Hour)) {
		t.Fatalf("after verification: push %+v, want active, the lease the hub granted (5 days)", st.Push)
	}

	// A partial document (the new entry only) adds it and removes nothing.
	polls := r.polls.Load()
	if code := r.hub.publish(t, form, secret, atomFeed(r.hub.URL, r.feed.URL, "B")); code/100 != 2 {
		t.Fatalf("signed distribution = %d, want 2xx", code)
	}
	if got := r.titles(t); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("items after a signed push = %v, want [A B]", got)
	}
	// Wrong or missing signatures: acknowledged, discarded, counted.
	if code := r.hub.publish(t, form, secret+"x", atomFeed(r.hub.URL, r.feed.URL, "C")); code/100 != 2 {
		t.Errorf("wrongly signed distribution = %d, want 2xx", code)
	}
	if code := r.hub.publish(t, form, "", atomFeed(r.hub.URL, r.feed.URL, "D")); code/100 != 2 {
		t.Errorf("unsigned distribution = %d, want 2xx", code)
	}
	if got := r.titles(t); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("items after unsigned pushes = %v, want [A B]", got)
	}
	if r.polls.Load() != polls {
		t.Errorf("the source was polled %d times during the pushes, want 0", r.polls.Load()-polls)
	}
	st = r.state(t)
	if st.Push.Pushes != 1 || st.Push.Rejected != 2 || r.pushes.Load() != 1 || r.rejected.Load() != 2 {
		t.Errorf("counted %d pushes, %d rejected (OnPush: %d, %d), want 1 and 2", st.Push.Pushes, st.Push.Rejected, r.pushes.Load(), r.rejected.Load())
	}

	// Polling goes on, at the push interval.
	if res := r.poll(t); !res.NextCheck.Equal(t0.Add(aggregator.DefaultPushInterval)) {
		t.Errorf("next check while pushed = %s, want %s", res.NextCheck, t0.Add(aggregator.DefaultPushInterval))
	}
	r.hub.noRequest(t) // the same hub and topic: nothing to ask
	r.maintain(t)
	r.hub.noRequest(t)
}

func TestPush_RenewBeforeLeaseEnds(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, false)
	form := r.subscribed(t, 10*86400)
	// A ten-day lease is renewed a day before it ends.
	r.setClock(t0.Add(9*24*time.Hour - time.Minute))
	r.maintain(t)
	r.hub.noRequest(t)
	r.setClock(t0.Add(9*24*time.Hour + time.Minute))
	r.maintain(t)
	renewal := r.hub.request(t)
	if renewal.Get("hub.mode") != "subscribe" || renewal.Get("hub.callback") != form.Get("hub.callback") || renewal.Get("hub.topic") != form.Get("hub.topic") {
		t.Fatalf("renewal %v, want a subscription request for the same callback and topic as %v", renewal, form)
	}
	if code, ok := r.hub.verify(t, renewal, "subscribe", renewal.Get("hub.topic"), 3600); code != 200 || !ok {
		t.Fatalf("verification of the renewal = %d, want 200", code)
	}
	now := r.clock()
	if st := r.state(t); !st.Push.LeaseEnd.Equal(now.Add(time.Hour)) {
		t.Errorf("lease end after renewal = %s, want %s", st.Push.LeaseEnd, now.Add(time.Hour))
	}
	// A one-hour lease is renewed half-way.
	r.setClock(now.Add(29 * time.Minute))
	r.maintain(t)
	r.hub.noRequest(t)
	r.setClock(now.Add(31 * time.Minute))
	r.maintain(t)
	r.hub.request(t)
}

func TestPush_SurvivesRestart(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, false)
	form := r.subscribed(t, 10*86400)
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
	r.setClock(t0.Add(time.Hour))
	r.open(t, []string{"127.0.0.0/8"}, false)
	st := r.state(t)
	if !st.Push.Active(r.clock()) || st.Push.Hub != r.hub.URL {
		t.Fatalf("after a restart: push %+v, want the active lease", st.Push)
	}
	r.maintain(t)
	if res := r.poll(t); !res.NextCheck.Equal(r.clock().Add(aggregator.DefaultPushInterval)) {
		t.Errorf("next check after a restart = %s, want the push interval", res.NextCheck)
	}
	r.maintain(t)
	r.hub.noRequest(t) // the lease is kept, not asked for again
	// And its secret still checks pushes.
	if code := r.hub.publish(t, form, form.Get("hub.secret"), atomFeed(r.hub.URL, r.feed.URL, "B")); code/100 != 2 {
		t.Fatalf("push after a restart = %d", code)
	}
	if got := r.titles(t); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("items = %v, want [A B]", got)
	}
}

func TestPush_HubOutsideAllowedNetworks(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"10.0.0.0/8"}, false) // not loopback, where the hub is
	r.poll(t)
	r.maintain(t)
	if n := r.hub.hits.Load(); n != 0 {
		t.Fatalf("the hub outside allow_networks got %d requests, want 0", n)
	}
	if st := r.state(t); !strings.Contains(st.Push.LastError, "not allowed") || st.Push.Active(r.clock()) {
		t.Errorf("push %+v: want the guard's refusal recorded, no lease", st.Push)
	}
	r.maintain(t) // retried later, with backoff: not at once
	if n := r.hub.hits.Load(); n != 0 {
		t.Fatalf("the hub got %d requests, want 0", n)
	}
}

func TestPush_Unsubscribe(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, false)
	form := r.subscribed(t, 86400)
	r.source.Store(atomFeed("", r.feed.URL, "A")) // the source stops naming a hub
	r.poll(t)
	if st := r.state(t); st.Push.Hub != "" {
		t.Errorf("push after the hub was dropped: %+v, want none", st.Push)
	}
	r.maintain(t)
	req := r.hub.request(t)
	if req.Get("hub.mode") != "unsubscribe" || req.Get("hub.callback") != form.Get("hub.callback") {
		t.Fatalf("request %v, want unsubscribe for %s", req, form.Get("hub.callback"))
	}
	if code, ok := r.hub.verify(t, req, "subscribe", req.Get("hub.topic"), 3600); code == 200 || ok {
		t.Errorf("a subscribe verification after unsubscribing = %d, want a refusal", code)
	}
	if code, ok := r.hub.verify(t, req, "unsubscribe", req.Get("hub.topic"), 0); code != 200 || !ok {
		t.Errorf("verification of the cancellation = %d, want 200 with the challenge", code)
	}
	if code := r.hub.publish(t, form, form.Get("hub.secret"), atomFeed("", r.feed.URL, "Z")); code != http.StatusGone {
		t.Errorf("a push to a forgotten callback = %d, want 410", code)
	}
}

func TestPush_Denied(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, false)
	r.poll(t)
	r.maintain(t)
	form := r.hub.request(t)
	if code := r.hub.deny(t, form, "topic not served here"); code != 200 {
		t.Errorf("denial = %d, want 200", code)
	}
	st := r.state(t)
	if st.Push.State != feedmux.PushDenied || !strings.Contains(st.Push.LastError, "topic not served here") {
		t.Errorf("push %+v, want denied with the hub's reason", st.Push)
	}
	if res := r.poll(t); !res.NextCheck.Equal(t0.Add(r.feed.Interval)) {
		t.Errorf("next check after a denial = %s, want the feed's interval", res.NextCheck)
	}
	r.maintain(t)
	r.hub.noRequest(t)
}

func TestPush_NoBaseURL(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, []string{"127.0.0.0/8"}, true)
	r.poll(t)
	r.maintain(t)
	if st := r.state(t); st.Push.Hub != "" || r.hub.hits.Load() != 0 {
		t.Errorf("without base_url: push %+v, %d hub requests; want neither", st.Push, r.hub.hits.Load())
	}
}

func TestPush_HubDiscovery(t *testing.T) {
	t.Parallel()
	const hub = "https://hub.example/"
	cases := []struct {
		name, body, link, wantHub, wantTopic string
	}{
		{name: "atom", body: atomFeed(hub, "https://a.example/self"), wantHub: hub, wantTopic: "https://a.example/self"},
		{name: "rss atom:link", body: `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>r</title><link>https://a.example/</link><description>d</description>` +
			`<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="https://a.example/rss"/></channel></rss>`,
			wantHub: hub, wantTopic: "https://a.example/rss"},
		{name: "json feed hubs", body: `{"version":"https://jsonfeed.org/version/1.1","title":"j","feed_url":"https://a.example/feed.json","hubs":[{"type":"WebSub","url":"https://hub.example/"}],"items":[]}`,
			wantHub: hub, wantTopic: "https://a.example/feed.json"},
		{name: "link header first", body: atomFeed("https://doc-hub.example/", "https://a.example/doc-self"),
			link: `<https://hub.example/>; rel="hub", <https://a.example/header-self>; rel="self"`, wantHub: hub, wantTopic: "https://a.example/header-self"},
		{name: "no self: the feed's URL", body: `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>r</title><link>https://a.example/</link><description>d</description><atom:link rel="hub" href="https://hub.example/"/></channel></rss>`,
			wantHub: hub, wantTopic: "(feed)"},
		{name: "only http hubs", body: atomFeed("ftp://hub.example/", "https://a.example/self")},
		{name: "none", body: atomFeed("", "https://a.example/self")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if c.link != "" {
					w.Header().Set("Link", c.link)
				}
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			p, db := newPoller(t)
			p.Push = aggregator.NewSubscriber(aggregator.NewFetcher(aggregator.FetcherConfig{}), "https://feedmux.example")
			feed := feedmux.Feed{URL: srv.URL + "/feed", Interval: time.Hour}
			if _, err := p.Poll(t.Context(), feed); err != nil {
				t.Fatal(err)
			}
			st, err := db.FeedState(t.Context(), feed.URL)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(c.wantTopic, "(feed)", feed.URL)
			if st.Push.Hub != c.wantHub || st.Push.Topic != want {
				t.Errorf("hub, topic = %q, %q; want %q, %q", st.Push.Hub, st.Push.Topic, c.wantHub, want)
			}
		})
	}
}
