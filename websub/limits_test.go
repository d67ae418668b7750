package websub_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux/websub"
)

// TestHub_DeadCallback: a callback that keeps failing is tried again after
// each backoff step, then dropped; nothing is sent before a step is due.
func TestHub_DeadCallback(t *testing.T) {
	s := newSite(t, dbPath(t), loopback, websub.Limits{})
	s.add(t, "First report")
	sub := newSubscriber(t, s.ts.URL+"/tags/x.atom", "s3cret")
	subscribe(t, s, sub)
	sub.fail.Store(true)
	s.add(t, "A change nobody receives")
	delays := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}
	for i, d := range delays {
		if r := s.waitResult(t); r != "failed" {
			t.Fatalf("attempt %d: %s, want failed", i+1, r)
		}
		held := s.hub.Subscriptions()
		if len(held) != 1 || !held[0].NextTry.Equal(s.clock.Now().Add(d)) || held[0].Failures != i+1 {
			t.Fatalf("after attempt %d: %+v, want %d failures and the next try in %v", i+1, held, i+1, d)
		}
		// A change before the step is due sends nothing: were it sent, the
		// results would run ahead of this loop and the count below fail.
		s.clock.Add(d - time.Second)
		s.add(t, "Another change, before the retry is due")
		s.clock.Add(time.Second)
		s.hub.Changed(nil)
	}
	if r := s.waitResult(t); r != "dropped" {
		t.Fatalf("after %d failures: %s, want dropped", len(delays)+1, r)
	}
	if subs, _ := s.db.HubSubscriptions(t.Context()); len(subs) != 0 || len(s.hub.Subscriptions()) != 0 {
		t.Errorf("a dead callback is still subscribed: %v", subs)
	}
	if n := sub.requests.Load(); n != int32(1+len(delays)+1) {
		t.Errorf("the callback had %d requests, want the verification and %d deliveries", n, len(delays)+1)
	}
}

// TestHub_LeaseEnds: a subscription whose lease ended is dropped, and sent
// nothing more.
func TestHub_LeaseEnds(t *testing.T) {
	s := newSite(t, dbPath(t), loopback, websub.Limits{})
	s.add(t, "First report")
	sub := newSubscriber(t, s.ts.URL+"/tags/x.atom", "")
	subscribe(t, s, sub)
	lease := s.hub.Subscriptions()[0].LeaseEnd
	if want := t0.Add(24 * time.Hour); !lease.Equal(want) {
		t.Errorf("lease ends %v, want %v (hub.lease_seconds 86400)", lease, want)
	}
	s.clock.Add(24 * time.Hour)
	s.add(t, "After the lease")
	deadline := time.Now().Add(patience)
	for len(s.hub.Subscriptions()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if subs, _ := s.db.HubSubscriptions(t.Context()); len(subs) != 0 {
		t.Errorf("an ended lease is still stored: %v", subs)
	}
	select {
	case p := <-sub.pushes:
		t.Errorf("sent after the lease ended:\n%s", p.body)
	default:
	}
}

// TestHub_Refused: a malformed request, a topic that is not one of
// feedmux's feeds, one over the limits and a callback the network guard
// refuses: none of them reaches the callback.
func TestHub_Refused(t *testing.T) {
	s := newSite(t, dbPath(t), loopback, websub.Limits{MaxPerHost: 2})
	s.add(t, "First report")
	sub := newSubscriber(t, s.ts.URL+"/tags/x.atom", "")
	cases := []struct {
		name, key, value, want string
		code                   int
	}{
		{"no mode", "hub.mode", "", "hub.mode", http.StatusBadRequest},
		{"publish", "hub.mode", "publish", "hub.mode", http.StatusBadRequest},
		{"no callback", "hub.callback", "", "hub.callback is required", http.StatusBadRequest},
		{"relative callback", "hub.callback", "/cb", "hub.callback must be", http.StatusBadRequest},
		{"ftp callback", "hub.callback", "ftp://127.0.0.1/cb", "hub.callback must be", http.StatusBadRequest},
		{"other site", "hub.topic", "https://elsewhere.example/tags/x.atom", "not a feed of this feedmux", http.StatusBadRequest},
		{"not a feed", "hub.topic", s.ts.URL + "/feeds", "is not a feed", http.StatusBadRequest},
		{"unknown tag", "hub.topic", s.ts.URL + "/tags/nothing.atom", "answers 404", http.StatusBadRequest},
		{"long secret", "hub.secret", strings.Repeat("s", 200), "200 bytes", http.StatusBadRequest},
		{"bad lease", "hub.lease_seconds", "-5", "hub.lease_seconds", http.StatusBadRequest},
	}
	for _, c := range cases {
		form := sub.form("subscribe")
		form.Set(c.key, c.value)
		code, msg := s.request(t, form)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %q, want %d with %q", c.name, code, msg, c.code, c.want)
		}
	}
	resp, err := http.Get(s.ts.URL + "/websub")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /websub: %d, want 405", resp.StatusCode)
	}
	if n := sub.requests.Load(); n != 0 {
		t.Errorf("the callback was contacted %d times for refused requests", n)
	}

	// Two subscriptions per callback host, then 429; a renewal passes.
	for _, topic := range []string{"/tags/x.atom", "/all.atom"} {
		form := sub.form("subscribe")
		form.Set("hub.topic", s.ts.URL+topic)
		sub.topic = s.ts.URL + topic
		if code, msg := s.request(t, form); code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", topic, code, msg)
		}
		if err := s.waitVerify(t); err != nil {
			t.Fatal(err)
		}
	}
	form := sub.form("subscribe")
	form.Set("hub.topic", s.ts.URL+"/all.rss")
	if code, msg := s.request(t, form); code != http.StatusTooManyRequests || !strings.Contains(msg, "limit of 2") {
		t.Errorf("a third subscription of one host: %d %q, want 429", code, msg)
	}
	if code, _ := s.request(t, sub.form("subscribe")); code != http.StatusAccepted {
		t.Errorf("a renewal over the limit: %d, want 202", code)
	}
	s.waitVerify(t)
}

// TestHub_Guard: a callback outside the allowed networks is never
// contacted, though its request is well-formed.
func TestHub_Guard(t *testing.T) {
	s := newSite(t, dbPath(t), []netip.Prefix{netip.MustParsePrefix("10.99.0.0/16")}, websub.Limits{})
	s.add(t, "First report")
	sub := newSubscriber(t, s.ts.URL+"/tags/x.atom", "")
	if code, msg := s.request(t, sub.form("subscribe")); code != http.StatusAccepted {
		t.Fatalf("subscribe answered %d %s", code, msg)
	}
	err := s.waitVerify(t)
	if err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("verification: %v, want the guard's refusal", err)
	}
	if n := sub.requests.Load(); n != 0 {
		t.Errorf("a loopback callback was contacted %d times with loopback not allowed", n)
	}
	if len(s.hub.Subscriptions()) != 0 {
		t.Errorf("an unverified subscription is held")
	}
}
