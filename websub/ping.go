package websub

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Pinger tells an external hub ([websub] hub) which of feedmux's feeds
// changed, with the publish ping hubs take (hub.mode=publish, hub.url);
// the hub then fetches them and delivers them to its subscribers. It pings
// the feeds of each changed public tag and /all, in every format.
type Pinger struct {
	hub    string
	client *http.Client
	log    *slog.Logger

	// Base returns the public URL of the feeds ([server] base_url).
	Base func() string
	// Private returns the tags whose feeds are not pinged.
	Private func() []string
	// Interval is how long changes are gathered into one round of pings,
	// so that the hub fetches documents rendered after them.
	Interval time.Duration

	mu   sync.Mutex
	tags map[string]bool
	wake chan struct{}
}

// formats are the output formats a changed tag's feeds are pinged in.
var formats = []string{"atom", "rss", "json"}

// NewPinger returns a Pinger of the external hub at hub.
func NewPinger(hub string, client *http.Client, log *slog.Logger) *Pinger {
	return &Pinger{
		hub: hub, client: client, log: log.With("component", "websub"), Interval: time.Second,
		Base: func() string { return "" }, Private: func() []string { return nil },
		tags: map[string]bool{}, wake: make(chan struct{}, 1),
	}
}

// Changed records that items of tags changed.
func (p *Pinger) Changed(tags []string) {
	p.mu.Lock()
	for _, t := range tags {
		p.tags[t] = true
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run pings the hub after changes until ctx ends.
func (p *Pinger) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		select { // gather the changes of one interval
		case <-ctx.Done():
			return
		case <-time.After(p.Interval):
		}
		for _, u := range p.changedURLs() {
			if err := p.ping(ctx, u); err != nil && ctx.Err() == nil {
				p.log.Warn("websub: pinging the hub failed", "hub", p.hub, "topic", u, "error", err)
			}
		}
	}
}

// changedURLs takes the tags changed since the last round and returns
// their feeds' URLs, /all's first.
func (p *Pinger) changedURLs() []string {
	p.mu.Lock()
	tags := make([]string, 0, len(p.tags))
	for t := range p.tags {
		tags = append(tags, t)
	}
	clear(p.tags)
	p.mu.Unlock()
	slices.Sort(tags)
	base := strings.TrimSuffix(p.Base(), "/")
	private := p.Private()
	var urls []string
	for _, f := range formats {
		urls = append(urls, base+"/all."+f)
	}
	for _, t := range tags {
		if slices.Contains(private, t) {
			continue
		}
		for _, f := range formats {
			urls = append(urls, base+"/tags/"+url.PathEscape(t)+"."+f)
		}
	}
	return urls
}

func (p *Pinger) ping(ctx context.Context, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(p.client, req, "the hub")
}
