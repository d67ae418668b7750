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

// hubClient is the client of requests to subscribers' callbacks: the
// article fetcher's, behind the same network guard.
func (m *Main) hubClient(cfg Config) *http.Client {
	return aggregator.NewFetcher(cfg.ContentFetcherConfig()).Client()
}
