package main

import (
	"context"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server"
)

// What a process does differently when it shares its database with
// others: elected roles, and changes carried between them.

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
