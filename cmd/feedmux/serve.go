package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/websub"
)

// Main is the feedmux daemon: it owns the database, the poller and the HTTP
// server, and connects them.
type Main struct {
	ConfigPath string
	Config     Config

	DB     feedmux.Store
	Poller *aggregator.Poller
	Server *server.Server
	// Instance names this process among those sharing a PostgreSQL
	// database; "" means host name/process id.
	Instance string
	// Hub is feedmux's own WebSub hub; nil with an external [websub] hub.
	Hub    *websub.Hub
	pinger *websub.Pinger // of the external hub
	// leading holds the roles this process leads (role: true), on a
	// database several processes share.
	leading sync.Map

	// PruneInterval is how often retention runs; 0 means 1h.
	PruneInterval time.Duration
	// WatchInterval is how often the configuration file is checked for
	// changes; 0 means 2s, negative turns watching off.
	WatchInterval time.Duration
	// StorageRetry is how often one poll is tried while the database
	// cannot be written; 0 means aggregator.DefaultStorageRetry.
	StorageRetry time.Duration

	log      *slog.Logger
	override func(*Config) // the flags and environment, over the file
	reloadMu sync.Mutex
	command  string // the subcommand whose flags ParseFlags reads: "serve" (""), "fetch", "healthcheck"
	// configStat is the configuration file as it was when last read.
	configStat os.FileInfo
	pollCtx    context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	errc       chan error
	closeMu    sync.Once
}

// NewMain returns a Main with the default configuration and a logger that
// discards everything until ParseFlags builds the real one.
func NewMain() *Main {
	return &Main{
		ConfigPath: "feeds.toml",
		Config:     DefaultConfig(),
		log:        slog.New(slog.DiscardHandler),
		errc:       make(chan error, 2),
	}
}

// Run opens the database, starts polling and serving, and returns once the
// listener is open. Errors of the background parts end up in Err.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	if m.Instance == "" {
		m.Instance = instanceName()
	}
	db, err := openStore(ctx, cfg, m.Instance)
	if err != nil {
		return err
	}
	m.DB = db

	m.Server = server.New(db, m.log)
	m.Server.Configure(cfg.ServerConfig())
	if err := m.Server.Listen(cfg.Server.Listen); err != nil {
		return err
	}
	if m.Poller, err = m.newPoller(ctx, db); err != nil {
		return err
	}
	metrics := m.wire(db)
	m.Poller.SetFeeds(cfg.FeedList())

	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.pollCtx, m.cancel = pollCtx, cancel
	m.startWebSub(pollCtx, metrics)
	m.watchChanges(pollCtx)
	m.watchLeading(metrics)
	m.startBackground(pollCtx)
	m.log.Info("started", "version", Version(), "listen", m.Server.Addr().String(),
		"config", m.ConfigPath, "db", storeName(cfg), "feeds", len(cfg.Feeds))
	return nil
}

// wire connects the poller and the server: metrics of polls, pages and
// pushes, readiness, the WebSub callbacks' routes, and the poller's
// changes to the server's cache.
func (m *Main) wire(db feedmux.Store) *server.Metrics {
	m.Poller.OnChange = m.changed
	metrics := server.NewMetrics(db)
	m.Server.Metrics = metrics
	m.Server.Ready = m.Poller.Ready
	m.Poller.Pages.OnPage = func(_ feedmux.Feed, fetched bool, took time.Duration) { metrics.ObservePage(fetched, took) }
	m.Poller.Push.OnPush = func(_ feedmux.Feed, accepted bool) { metrics.ObservePush(accepted) }
	callback := m.Poller.Callback()
	m.Server.Handle("GET "+aggregator.CallbackPath+"{id}", callback)
	m.Server.Handle("POST "+aggregator.CallbackPath+"{id}", callback)
	m.Poller.OnPoll = func(_ feedmux.Feed, res aggregator.Result, err error, took time.Duration) {
		metrics.ObservePoll(res.Status, aggregator.ErrorKind(err), took, res.Bytes, res.Inserted, res.Updated)
	}
	return metrics
}

// startBackground starts what runs until pollCtx ends or the server
// stops: the poller, the server, re-tagging, upkeep (retention) on the
// process that leads it, and the config file watcher.
func (m *Main) startBackground(pollCtx context.Context) {
	retention := m.Config.Retention() // read now: a reload replaces m.Config
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := m.Poller.Run(pollCtx); err != nil {
			m.errc <- fmt.Errorf("poller: %w", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		if err := m.Server.Serve(); err != nil {
			m.errc <- fmt.Errorf("server: %w", err)
		}
	}()
	// Items stored under other rules are re-tagged beside polling.
	m.retagLater()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.lead(pollCtx, roleUpkeep, func(ctx context.Context) {
			if _, shared := m.DB.(feedmux.Elector); shared {
				m.retag(ctx) // a process that takes over brings the tags in line first
			}
			m.prune(ctx, retention)
		})
	}()
	if m.WatchInterval >= 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.watch(pollCtx)
		}()
	}
}

// newPoller builds the poller of the configuration: fetcher, limits,
// rules, and the story grouper filled from the database.
func (m *Main) newPoller(ctx context.Context, db feedmux.Store) (*aggregator.Poller, error) {
	cfg := m.Config
	p := aggregator.NewPoller(db, aggregator.NewFetcher(cfg.FetcherConfig()), m.log)
	p.Concurrency = cfg.Poll.Concurrency
	p.PerHost = cfg.Poll.PerHost
	p.SetIntervals(time.Duration(cfg.Poll.MinInterval), time.Duration(cfg.Poll.MaxInterval))
	p.StorageRetry = m.StorageRetry
	p.Instance = m.Instance
	tagger, err := aggregator.NewTagger(cfg.Rules())
	if err != nil {
		return nil, fmt.Errorf("topic rules: %w", err)
	}
	p.SetRules(tagger)
	// Article pages and WebSub hubs are other people's addresses: one
	// guarded client reaches both.
	guarded := aggregator.NewFetcher(cfg.ContentFetcherConfig())
	p.Pages = aggregator.NewPages(guarded, cfg.Content.AllowNetworks, cfg.Content.Workers)
	p.Push = aggregator.NewSubscriber(guarded, cfg.Server.BaseURL)
	p.SetPushInterval(time.Duration(cfg.Poll.PushInterval))
	p.Stories = aggregator.NewGrouper(cfg.StoryConfig())
	if err := p.LoadStories(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Err returns a channel that receives the error of a part that stopped on
// its own (the listener failed, the database went away).
func (m *Main) Err() <-chan error { return m.errc }

// Close stops polling (letting writes in flight finish), shuts the HTTP
// server down with a deadline, and closes the database last.
func (m *Main) Close() error {
	var errs []error
	m.closeMu.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		if m.Server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, m.Server.Shutdown(ctx))
			cancel()
		}
		m.wg.Wait()
		if c, shared := m.DB.(feedmux.FeedClaimer); shared {
			// The polls cancelled just now held claims: the others' at once.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, c.ReleaseClaims(ctx, m.Instance))
			cancel()
		}
		if m.DB != nil {
			errs = append(errs, m.DB.Close())
		}
	})
	return errors.Join(errs...)
}

// prune applies retention now and every PruneInterval until ctx ends.
func (m *Main) prune(ctx context.Context, r feedmux.Retention) {
	interval := cmp.Or(m.PruneInterval, time.Hour)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := m.DB.Prune(ctx, r, 500)
		switch {
		case err != nil && ctx.Err() == nil:
			m.log.Error("retention stopped", "error", err)
		case res.Removed > 0 || res.Tombstones > 0:
			m.changed(res.Tags)
			m.log.Info("retention removed items", "items", res.Removed, "tombstones", res.Tombstones)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
