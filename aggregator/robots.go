package aggregator

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// robotsTTL is how long a host's robots.txt is trusted before it is read
// again; robotsRetry how long after a failed read.
const (
	robotsTTL   = 24 * time.Hour
	robotsRetry = 10 * time.Minute
	maxRobots   = 10000 // hosts remembered
)

// ErrRobots is returned for a page that the site's robots.txt disallows.
var ErrRobots = errors.New("disallowed by robots.txt")

// robots answers whether feedmux's User-Agent may fetch a page, from each
// host's robots.txt (RFC 9309), cached per host. A robots.txt that is
// missing (4xx) allows everything; one that cannot be read (5xx, network
// error) disallows everything until it is read again, as the RFC says.
type robots struct {
	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{} // closed once group and expires are set
	group   *robotstxt.Group
	allowed bool // everything, whatever the path (no group)
	expires time.Time
}

func newRobots() *robots { return &robots{hosts: map[string]*robotsEntry{}} }

// allowed reports whether page may be fetched, reading the host's
// robots.txt with fetcher when it is not cached. One read per host is in
// flight at a time; the others wait for it.
func (r *robots) allowed(ctx context.Context, fetcher *Fetcher, page *url.URL, now time.Time) bool {
	key := page.Scheme + "://" + page.Host
	r.mu.Lock()
	e := r.hosts[key]
	if e == nil || (isClosed(e.ready) && now.After(e.expires)) {
		if len(r.hosts) >= maxRobots {
			clear(r.hosts)
		}
		e = &robotsEntry{ready: make(chan struct{})}
		r.hosts[key] = e
		r.mu.Unlock()
		e.load(ctx, fetcher, key, now)
	} else {
		r.mu.Unlock()
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return false
	}
	if e.group == nil {
		return e.allowed
	}
	path := page.EscapedPath()
	if page.RawQuery != "" {
		path += "?" + page.RawQuery
	}
	return e.group.Test(path)
}

func (e *robotsEntry) load(ctx context.Context, fetcher *Fetcher, site string, now time.Time) {
	defer close(e.ready)
	e.expires = now.Add(robotsTTL)
	resp, err := fetcher.get(ctx, site+"/robots.txt", "text/plain, */*;q=0.5", Validators{})
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
		e.allowed = true // no robots.txt: no rules
		return
	case err != nil:
		e.expires = now.Add(robotsRetry) // unreachable: allow nothing for now
		return
	}
	data, err := robotstxt.FromBytes(resp.Body)
	if err != nil {
		e.expires = now.Add(robotsRetry)
		return
	}
	e.group = data.FindGroup(fetcher.robotsAgent())
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// robotsAgent is the product token of the User-Agent ("feedmux" of
// "feedmux/1.2 (+https://…)"), which robots.txt groups name.
func (f *Fetcher) robotsAgent() string {
	ua := f.userAgent
	if i := strings.IndexAny(ua, "/ "); i >= 0 {
		ua = ua[:i]
	}
	if ua == "" {
		return "feedmux"
	}
	return ua
}
