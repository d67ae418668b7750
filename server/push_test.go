package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestServer_PushStatus: /feeds and /feeds.json show which sources a hub
// pushes, and Handle mounts another part's routes beside the server's.
func TestServer_PushStatus(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, hostileItems())
	feedURL := ts.feeds[0].URL
	if err := ts.db.SubscribePush(t.Context(), feedmux.Push{FeedURL: feedURL, Hub: "https://hub.example/",
		Topic: feedURL, CallbackID: "cb", Secret: "never-shown", State: feedmux.PushSubscribing}); err != nil {
		t.Fatal(err)
	}
	if err := ts.db.PushVerified(t.Context(), "cb", renderNow, 48*time.Hour, renderNow.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{"/feeds", `<dt>Push (WebSub)</dt><dd>active · lease until <time datetime="2024-03-28T13:00:00Z">`},
		{"/feeds.json", `"push": {
        "hub": "https://hub.example/",
        "topic": "` + feedURL + `",
        "state": "active",
        "lease_end": "2024-03-28T13:00:00Z"`},
	} {
		b := string(body(t, ts.get(t, c.path)))
		if !strings.Contains(b, c.want) {
			t.Errorf("%s does not show the subscription: want %q in\n%.3000s", c.path, c.want, b)
		}
		if strings.Contains(b, "never-shown") {
			t.Errorf("%s shows the subscription's secret", c.path)
		}
	}
	ts.Handle("GET /websub/callback/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "callback "+r.PathValue("id"))
	}))
	if b := string(body(t, ts.get(t, "/websub/callback/abc"))); b != "callback abc" {
		t.Errorf("a route mounted with Handle answered %q", b)
	}
}
