package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestWebSub_Hub: a reader subscribed to /tags/x.atom at the daemon's hub
// is verified and sent the new document, signed, once a poll stores a
// new item; the time from the poll's end to the delivery is logged.
func TestWebSub_Hub(t *testing.T) {
	var items atomic.Int32
	items.Store(1)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>S</title><link>https://s.example/</link><description>d</description>`)
		for i := range items.Load() {
			fmt.Fprintf(w, "<item><title>Report %d</title><link>https://s.example/%d</link></item>", i, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(src.Close)
	config := filepath.Join(t.TempDir(), "feeds.toml")
	doc := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\n[content]\nallow_networks = [\"127.0.0.0/8\"]\n[[feed]]\nurl = %q\ntags = [\"x\"]\n", src.URL)
	if err := os.WriteFile(config, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, config, filepath.Join(t.TempDir(), "feedmux.db"))
	base := "http://" + m.Server.Addr().String()
	topic := base + "/tags/x.atom"

	type delivery struct {
		body   []byte
		signed bool
		at     time.Time
	}
	deliveries := make(chan delivery, 8)
	const secret = "a reader's secret"
	reader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if r.URL.Query().Get("hub.topic") != topic {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		deliveries <- delivery{body, r.Header.Get("X-Hub-Signature") == "sha256="+hex.EncodeToString(mac.Sum(nil)), time.Now()}
	}))
	t.Cleanup(reader.Close)

	resp, body := get(t, topic)
	if link := resp.Header.Get("Link"); !strings.Contains(link, "<"+base+`/websub>; rel="hub"`) {
		t.Fatalf("/tags/x.atom Link %q names no hub", link)
	}
	if !strings.Contains(string(body), `<link href="`+base+`/websub" rel="hub">`) {
		t.Fatalf("/tags/x.atom names no hub:\n%s", body)
	}
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {reader.URL + "/cb"}, "hub.secret": {secret}}
	sub, err := http.PostForm(base+"/websub", form)
	if err != nil {
		t.Fatal(err)
	}
	sub.Body.Close()
	if sub.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: %s", sub.Status)
	}
	waitFor(t, "the subscription verified", func() bool { return len(m.Hub.Subscriptions()) == 1 })

	items.Store(2)
	if _, err := m.Poller.Poll(t.Context(), feedmux.Feed{URL: src.URL, Tags: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	polled := time.Now()
	select {
	case d := <-deliveries:
		t.Logf("delivered %v after the poll stored the item", d.at.Sub(polled))
		if !d.signed || !strings.Contains(string(d.body), "Report 1") {
			t.Errorf("delivery signed %v, body:\n%s", d.signed, d.body)
		}
	case <-time.After(patience):
		t.Fatal("no delivery after the change")
	}
	waitFor(t, "/metrics counting the delivery and the subscription", func() bool {
		_, metrics := get(t, base+"/metrics")
		return strings.Contains(string(metrics), `feedmux_websub_deliveries_total{result="ok"} 1`) &&
			strings.Contains(string(metrics), "feedmux_websub_subscriptions 1")
	})
}
