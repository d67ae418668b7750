package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// miniHub is a minimal WebSub hub for this test, written from the
// Recommendation and sharing no code with feedmux: it accepts
// subscription requests (202) and passes them on; verification of intent
// and content distribution are made when the test says.
type miniHub struct {
	*httptest.Server
	requests chan url.Values
}

func newMiniHub(t *testing.T) *miniHub {
	h := &miniHub{requests: make(chan url.Values, 8)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("hub.callback") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.requests <- r.PostForm
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

// verify GETs the callback as section 5.3 says; it returns the status
// and whether the challenge came back.
func (h *miniHub) verify(t *testing.T, sub url.Values, topic string) (int, bool) {
	t.Helper()
	challenge := rand.Text()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {challenge}, "hub.lease_seconds": {"86400"}}
	resp, err := http.Get(sub.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b) == challenge
}

// publish POSTs body to the callback, signed (section 7) with secret.
func (h *miniHub) publish(t *testing.T, sub url.Values, secret, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sub.Get("hub.callback"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/atom+xml")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func pushedAtom(hub, self string, titles ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2024-03-26T10:00:00Z</updated><link rel="hub" href="%s"/><link rel="self" href="%s"/>`, hub, self)
	for _, title := range titles {
		fmt.Fprintf(&b, `<entry><title>%s</title><id>urn:wire:%s</id><link href="https://wire.example/%s"/><updated>2024-03-26T10:00:00Z</updated></entry>`,
			title, url.PathEscape(title), url.PathEscape(title))
	}
	b.WriteString(`</feed>`)
	return b.String()
}

// TestPush_OverHTTP runs the daemon with a source that names a hub: the
// daemon subscribes, answers the verification for its topic only, and
// serves a signed push in the tag feed at once, with no poll of the
// source; a push with a wrong signature is counted and not stored.
func TestPush_OverHTTP(t *testing.T) {
	hub := newMiniHub(t)
	var sourceRequests atomic.Int64
	var feedURL string
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sourceRequests.Add(1)
		w.Header().Set("Content-Type", "application/atom+xml")
		io.WriteString(w, pushedAtom(hub.URL, feedURL, "Polled report"))
	}))
	t.Cleanup(source.Close)
	feedURL = source.URL + "/wire.atom"
	// The daemon's public URL: a proxy in front of it, as a hub would see
	// it, so that base_url is known before the daemon listens.
	var daemon atomic.Pointer[url.URL]
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := daemon.Load()
		if target == nil {
			http.Error(w, "not started", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	cfg := fmt.Sprintf(`[server]
listen = "127.0.0.1:0"
base_url = %q
render_interval = "0s"

[poll]
interval = "1h"

[content]
allow_networks = ["127.0.0.0/8"]

[[feed]]
url = %q
tags = ["wire"]
`, proxy.URL, feedURL)
	path := filepath.Join(t.TempDir(), "feeds.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, path, filepath.Join(t.TempDir(), "feedmux.db"))
	base := "http://" + m.Server.Addr().String()
	daemon.Store(&url.URL{Scheme: "http", Host: m.Server.Addr().String()})

	var sub url.Values
	select {
	case sub = <-hub.requests:
	case <-time.After(patience): // only stops a hung test
		t.Fatal("the daemon did not subscribe at the source's hub")
	}
	if sub.Get("hub.mode") != "subscribe" || sub.Get("hub.topic") != feedURL || !strings.HasPrefix(sub.Get("hub.callback"), proxy.URL+"/websub/callback/") {
		t.Fatalf("subscription request %v: want subscribe, topic %s, a callback under base_url", sub, feedURL)
	}
	if code, ok := hub.verify(t, sub, feedURL+"/not-asked"); code/100 == 2 || ok {
		t.Errorf("verification for a topic the daemon did not ask for = %d (challenge echoed: %v), want a refusal", code, ok)
	}
	if code, ok := hub.verify(t, sub, feedURL); code != 200 || !ok {
		t.Fatalf("verification of intent = %d (challenge echoed: %v), want 200 with the challenge", code, ok)
	}

	polled := sourceRequests.Load()
	pushed := time.Now()
	if code := hub.publish(t, sub, sub.Get("hub.secret"), pushedAtom(hub.URL, feedURL, "Pushed report")); code/100 != 2 {
		t.Fatalf("signed push = %d, want 2xx", code)
	}
	if code := hub.publish(t, sub, "not the secret", pushedAtom(hub.URL, feedURL, "Forged report")); code/100 != 2 {
		t.Fatalf("wrongly signed push = %d, want 2xx", code)
	}
	var doc atomDoc
	waitFor(t, "the pushed item in the tag feed", func() bool {
		_, body := get(t, base+"/tags/wire.atom")
		doc = atomDoc{}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		return len(doc.Entries) == 2
	})
	t.Logf("the pushed item showed in /tags/wire.atom %v after the signed push began (the forged one included)", time.Since(pushed))

	var titles []string
	for _, e := range doc.Entries {
		titles = append(titles, e.Title)
	}
	if strings.Join(titles, "|") != "Pushed report|Polled report" && strings.Join(titles, "|") != "Polled report|Pushed report" {
		t.Errorf("tag feed entries = %q, want the polled and the pushed report, not the forged one", titles)
	}
	if n := sourceRequests.Load() - polled; n != 0 {
		t.Errorf("the source was polled %d times after the push, want 0", n)
	}
	_, page := get(t, base+"/metrics")
	for name, want := range map[string]float64{"feedmux_push_accepted_total": 1, "feedmux_push_rejected_total": 1} {
		if n, ok := metricValue(t, page, name, nil); !ok || n != want {
			t.Errorf("%s = %v (found: %v), want %v", name, n, ok, want)
		}
	}
	_, body := get(t, base+"/feeds.json")
	var status struct {
		Feeds []struct {
			Push *struct {
				Hub, State string
				Pushes     int
				Rejected   int
				LeaseEnd   *time.Time `json:"lease_end"`
			}
		}
	}
	if err := json.Unmarshal(body, &status); err != nil {
		t.Fatal(err)
	}
	if len(status.Feeds) != 1 || status.Feeds[0].Push == nil {
		t.Fatalf("/feeds.json shows no push: %s", body)
	}
	if p := status.Feeds[0].Push; p.Hub != hub.URL || p.State != "active" || p.Pushes != 1 || p.Rejected != 1 || p.LeaseEnd == nil {
		t.Errorf("/feeds.json push = %+v, want active at %s with a lease end, 1 pushed, 1 rejected", p, hub.URL)
	}
}
