package websub_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/feedmux/feedmux/websub"
)

// TestPinger: a change pings the external hub with the feeds of each
// changed public tag and /all, in every format; a private tag's feeds are
// not named.
func TestPinger(t *testing.T) {
	pings := make(chan string, 64)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("hub.mode") != "publish" {
			http.Error(w, "not a ping", http.StatusBadRequest)
			return
		}
		pings <- r.FormValue("hub.url")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hub.Close)
	p := websub.NewPinger(hub.URL, hub.Client(), slog.New(slog.DiscardHandler))
	p.Base = func() string { return "https://news.example/" }
	p.Private = func() []string { return []string{"a-staff"} }
	p.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	p.Changed([]string{"gaza", "a-staff"}) // sorted first: were it pinged, the list would differ
	var got []string
	for len(got) < 6 {
		select {
		case u := <-pings:
			got = append(got, u)
		case <-time.After(patience):
			t.Fatalf("pinged %v, want 6 feeds", got)
		}
	}
	want := []string{
		"https://news.example/all.atom", "https://news.example/all.rss", "https://news.example/all.json",
		"https://news.example/tags/gaza.atom", "https://news.example/tags/gaza.rss", "https://news.example/tags/gaza.json",
	}
	if !slices.Equal(got, want) {
		t.Errorf("pinged %v, want %v", got, want)
	}
}
