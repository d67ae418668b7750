package main

import (
	"context"
	"net/http"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/websub"
)

// startWebSub starts the hub every output feed names: feedmux's own at
// server.HubPath, its callbacks behind the network guard, or the pinger
// of the external [websub] hub.
func (m *Main) startWebSub(ctx context.Context, metrics *server.Metrics) {
	cfg := m.Config
	if cfg.WebSub.Hub != "" {
		m.pinger = websub.NewPinger(cfg.WebSub.Hub, aggregator.NewFetcher(cfg.FetcherConfig()).Client(), m.log)
		m.pinger.Base = func() string { return m.Server.Config().BaseURL }
		m.pinger.Private = func() []string { return m.Server.Config().PrivateTags }
		m.pinger.Interval = max(time.Duration(cfg.Server.RenderInterval), time.Second)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.pinger.Run(ctx)
		}()
		return
	}
	limits := websub.Limits{MaxSubscriptions: cfg.WebSub.MaxSubscriptions, MaxPerHost: cfg.WebSub.MaxPerHost}
	m.Hub = websub.New(m.DB, m.Server.Handler(), m.hubClient(cfg), limits, m.log)
	m.Hub.Base = func() string { return m.Server.Config().BaseURL }
	m.Hub.Interval = func() time.Duration { return m.Server.Config().RenderInterval }
	m.Hub.OnVerify = func(_, _, _ string, err error) { metrics.ObserveHubVerification(err == nil) }
	m.Hub.OnDeliver = metrics.ObserveHubDelivery
	metrics.WatchHubSubscriptions(func() int { return len(m.Hub.Subscriptions()) })
	m.Server.Handle(server.HubPath, m.Hub)
	_, m.Hub.Shared = m.DB.(feedmux.Elector)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.Hub.Close()
		m.lead(ctx, roleDeliveries, func(ctx context.Context) {
			if err := m.Hub.Run(ctx); err != nil {
				m.errc <- err
			}
		})
	}()
}

// The roles one of several processes sharing a database is elected to.
const (
	roleGrouping   = "story grouping" // elected in aggregator.Poller
	roleUpkeep     = "retention and re-tagging"
	roleDeliveries = "websub deliveries"
)

// leads reports whether this process does the work of role: always on a
// store of its own, while elected on a shared one.
func (m *Main) leads(role string) bool {
	if _, shared := m.DB.(feedmux.Elector); !shared {
		return true
	}
	v, _ := m.leading.Load(role)
	return v == true
}

// lead runs work while this process leads in role, on a store several
// processes share (feedmux.Elector), again each time it leads anew; on
// any other store it runs work once. It returns when ctx ends.
func (m *Main) lead(ctx context.Context, role string, work func(ctx context.Context)) {
	e, shared := m.DB.(feedmux.Elector)
	if !shared {
		work(ctx)
		return
	}
	for ctx.Err() == nil {
		lead, err := e.Lead(ctx, role)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error("asking to lead failed", "role", role, "error", err)
				select { // a retry's pause
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
			continue
		}
		m.log.Info("leading", "role", role, "instance", m.Instance)
		m.leading.Store(role, true)
		work(lead)
		m.leading.Store(role, false)
	}
}

// watchLeading exports in /metrics which roles this process leads, when it
// shares its database with others.
func (m *Main) watchLeading(metrics *server.Metrics) {
	if _, shared := m.DB.(feedmux.Elector); !shared {
		return
	}
	metrics.WatchLeading(m.Instance, []string{roleGrouping, roleUpkeep, roleDeliveries}, func(role string) bool {
		if role == roleGrouping {
			return m.Poller.LeadsGrouping()
		}
		v, _ := m.leading.Load(role)
		return v == true
	})
}

// hubClient is the client of requests to subscribers' callbacks: the
// article fetcher's, behind the same network guard.
func (m *Main) hubClient(cfg Config) *http.Client {
	return aggregator.NewFetcher(cfg.ContentFetcherConfig()).Client()
}

// changed tells every part that shows stored items that items of tags
// changed: the render cache, and the hub or the external hub's pinger.
func (m *Main) changed(tags []string) {
	m.showChange(tags)
	if n, ok := m.DB.(feedmux.ChangeNotifier); ok {
		if err := n.NotifyChange(context.Background(), tags); err != nil {
			m.log.Warn("telling the other processes of a change failed; their caches catch up within seconds", "error", err)
		}
	}
}

// showChange drops what a change made stale here: the render cache's
// documents of tags (every one when tags is nil: changes were missed),
// and tells the hub or the external hub's pinger.
func (m *Main) showChange(tags []string) {
	if tags == nil {
		m.Server.Purge()
	} else {
		m.Server.Invalidate(tags)
	}
	if m.Hub != nil {
		m.Hub.Changed(tags)
	}
	if m.pinger != nil {
		m.pinger.Changed(tags)
	}
}

// watchChanges shows the other processes' changes here, on a store
// several processes share, until ctx ends.
func (m *Main) watchChanges(ctx context.Context) {
	n, ok := m.DB.(feedmux.ChangeNotifier)
	if !ok {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := n.WatchChanges(ctx, m.showChange); err != nil {
			m.errc <- err
		}
	}()
}
