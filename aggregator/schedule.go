package aggregator

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// Interval bounds.
const (
	DefaultMinInterval = time.Minute
	DefaultMaxInterval = 24 * time.Hour
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
