package aggregator

import (
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// Poll defaults: how often a feed is polled when feeds.toml does not say,
// the bounds of every wait, and the polls in flight.
const (
	DefaultInterval    = 15 * time.Minute
	DefaultMinInterval = time.Minute
	DefaultMaxInterval = 24 * time.Hour
	DefaultConcurrency = 8
	DefaultPerHost     = 2
)

// docFloor is the shortest wait a document asks for: RSS <ttl> (minutes),
// or the syndication module's updatePeriod divided by updateFrequency.
func docFloor(doc *gofeed.Feed) time.Duration {
	var floor time.Duration
	if orig, ok := doc.OriginalFeed().(*rss.Feed); ok && orig != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(orig.TTL)); err == nil && n > 0 {
			floor = time.Duration(min(n, 60*24*365)) * time.Minute
		}
	}
	if sy, ok := doc.Extensions["sy"]; ok {
		period := map[string]time.Duration{
			"hourly": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour,
			"monthly": 30 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour,
		}[strings.ToLower(extValue(sy["updatePeriod"]))]
		if period > 0 {
			freq, err := strconv.Atoi(extValue(sy["updateFrequency"]))
			if err != nil || freq < 1 {
				freq = 1
			}
			floor = max(floor, period/time.Duration(freq))
		}
	}
	return floor
}

func extValue(exts []ext.Extension) string {
	if len(exts) == 0 {
		return ""
	}
	return strings.TrimSpace(exts[0].Value)
}

// pollInterval is how often feed is polled: its interval, or while its
// hub pushes its changes (an active lease at now), the push interval when
// that is longer. Polling goes on then as a fallback: a hub can fail
// silently.
func (p *Poller) pollInterval(feed feedmux.Feed, st *feedmux.FeedState, now time.Time) time.Duration {
	if st.Push.Active(now) {
		return max(feed.Interval, p.PushInterval())
	}
	return feed.Interval
}

// clamp bounds d to [lo, hi].
func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// backoff is the wait after the n-th consecutive failure: the interval
// doubled per failure, capped, less up to 10% jitter so that feeds failing
// together do not retry together.
func backoff(interval time.Duration, n int, limit time.Duration) time.Duration {
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// job is a feed due at a time.
type job struct {
	feed feedmux.Feed
	due  time.Time
	gone bool // set when a poll found the feed gone
}

// hostOf is the host part of a feed URL, the key of the per-host limit.
func hostOf(feedURL string) string {
	u, err := url.Parse(feedURL)
	if err != nil {
		return feedURL
	}
	return strings.ToLower(u.Hostname())
}

// schedule is a min-heap of jobs by due time.
type schedule []job

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].due.Before(s[j].due) }
func (s schedule) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)        { *s = append(*s, x.(job)) }
func (s *schedule) Pop() any {
	old := *s
	j := old[len(old)-1]
	*s = old[:len(old)-1]
	return j
}

// firstCycle follows Run's first poll cycle: the feeds due when it first
// planned. Once all of them have been polled (or removed), the poller is
// ready.
type firstCycle struct {
	pending map[string]bool // nil until the first plan
	ready   *atomic.Bool
}

// planned notes a plan of the feeds current, queued in queue, at now.
func (c *firstCycle) planned(queue schedule, current map[string]feedmux.Feed, now time.Time) {
	if c.pending == nil {
		c.pending = map[string]bool{}
		for _, j := range queue {
			if !j.due.After(now) {
				c.pending[j.feed.URL] = true
			}
		}
	}
	for u := range c.pending {
		if _, ok := current[u]; !ok {
			delete(c.pending, u) // removed before its first poll
		}
	}
	if len(c.pending) == 0 {
		c.ready.Store(true)
	}
}

// polled notes that the feed at url was polled.
func (c *firstCycle) polled(url string) {
	if c.pending != nil {
		delete(c.pending, url)
		if len(c.pending) == 0 {
			c.ready.Store(true)
		}
	}
}
