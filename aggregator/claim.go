package aggregator

import (
	"context"
	"time"

	"github.com/feedmux/feedmux"
)

// claimMargin is how much longer than one fetch may take a claim lasts: a
// process that dies holding a claim holds its feed this much longer than
// its poll could have taken, and no more.
const claimMargin = 5 * time.Second

// claim asks a shared store whether this process is to poll j's feed now;
// when it is not (another polled it, or is polling it), the job returned
// is when to ask again. A store of one process always says yes.
func (p *Poller) claim(ctx context.Context, j job) (mine bool, later job) {
	c, shared := p.db.(feedmux.FeedClaimer)
	if !shared {
		return true, job{}
	}
	now := p.Now()
	lease := p.Fetcher().Timeout() + claimMargin
	claimed, next, err := c.ClaimFeed(ctx, feedmux.FeedClaim{
		URL: j.feed.URL, Host: hostOf(j.feed.URL), Instance: p.Instance, Now: now, Lease: lease, PerHost: p.perHost(),
	})
	if err != nil {
		p.log.Warn("claiming a feed failed", "feed", j.feed.URL, "error", err)
		return false, job{feed: j.feed, due: now.Add(claimMargin)}
	}
	if claimed {
		return true, job{}
	}
	return false, job{feed: j.feed, due: next}
}
