package main

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/feedmux/feedmux/aggregator"
)

// Reload reads the configuration file again and applies it without a
// restart: added feeds start polling, removed ones stop (their items stay
// until retention removes them), changed feeds take their new settings,
// rules and output settings change, and stored items are re-tagged when the
// rules did. An invalid file is logged with every problem and changes
// nothing. What Reload cannot apply (the listen address, the database,
// retention, the poll concurrency, story grouping: see liveKeys) is logged
// as needing a restart, key by key.
func (m *Main) Reload() error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	if fi, err := os.Stat(m.ConfigPath); err == nil {
		m.configStat = fi
	}
	cfg, err := LoadConfig(m.ConfigPath)
	if err != nil {
		m.log.Error("configuration not reloaded: the running one stays", "config", m.ConfigPath, "error", err)
		return err
	}
	m.override(&cfg)
	tagger, err := aggregator.NewTagger(cfg.Rules())
	if err != nil {
		m.log.Error("configuration not reloaded: the running one stays", "config", m.ConfigPath, "error", err)
		return err
	}
	for _, key := range restartNeeded(m.Config, cfg) {
		m.log.Warn("configuration change needs a restart to take effect", "setting", key)
	}
	m.Config = cfg
	m.Server.Configure(cfg.ServerConfig())
	changed := tagger.Fingerprint() != m.Poller.Rules().Fingerprint()
	m.Poller.SetRules(tagger)
	m.Poller.SetIntervals(time.Duration(cfg.Poll.MinInterval), time.Duration(cfg.Poll.MaxInterval))
	fetchChanged := cfg.FetcherConfig() != m.Poller.Fetcher().Config()
	if fetchChanged {
		m.Poller.SetFetcher(aggregator.NewFetcher(cfg.FetcherConfig()))
	}
	if fetchChanged || !slices.Equal(cfg.Content.AllowNetworks, m.Poller.Pages.AllowNetworks()) {
		// One guarded client for article pages and WebSub hubs alike.
		guarded := aggregator.NewFetcher(cfg.ContentFetcherConfig())
		m.Poller.Pages.SetFetcher(guarded, cfg.Content.AllowNetworks)
		m.Poller.Push.SetFetcher(guarded)
		if m.Hub != nil {
			m.Hub.SetClient(guarded.Client())
		}
	}
	m.Poller.SetPushInterval(time.Duration(cfg.Poll.PushInterval))
	m.Poller.Push.SetBaseURL(cfg.Server.BaseURL)
	m.Poller.SetFeeds(cfg.FeedList())
	if changed {
		m.retagLater()
	}
	m.log.Info("configuration reloaded", "config", m.ConfigPath, "feeds", len(cfg.Feeds))
	return nil
}

// retagLater re-tags stored items for the current rules in the background;
// on a database several processes share, only the one elected for it does.
func (m *Main) retagLater() {
	if !m.leads(roleUpkeep) {
		return // the process elected for it re-tags, when its rules change
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.retag(m.pollCtx)
	}()
}

// retag brings the stored items' tags in line with the poller's rules.
func (m *Main) retag(ctx context.Context) {
	n, err := m.Poller.Retag(ctx, m.Poller.Feeds())
	switch {
	case err != nil && ctx.Err() == nil:
		m.log.Error("re-tagging stopped", "error", err)
	case n > 0:
		m.log.Info("re-tagged stored items for the current rules", "tags_changed", n)
	}
}

// watch reloads the configuration when its file changes on disk (its size,
// time or identity: editors that replace the file are seen too) and then
// holds still for one look. A stat is cheap, so it looks every
// WatchInterval.
func (m *Main) watch(ctx context.Context) {
	interval := m.WatchInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var pending os.FileInfo // a new version, reloaded once it holds still
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(m.ConfigPath)
		if err != nil {
			continue // being replaced, or gone: keep the running config
		}
		m.reloadMu.Lock()
		last := m.configStat
		m.reloadMu.Unlock()
		if sameVersion(fi, last) {
			pending = nil
			continue
		}
		// An editor writing in place leaves a half-written file for a
		// moment: wait until the new version has not changed for a tick.
		if !sameVersion(fi, pending) {
			pending = fi
			continue
		}
		pending = nil
		m.Reload()
	}
}

func sameVersion(a, b os.FileInfo) bool {
	return a != nil && b != nil && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}
