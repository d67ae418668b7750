package aggregator

import (
	"context"
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
)

// groupBatch is how many waiting items one grouping transaction takes;
// groupSlice how many it groups per hold of a CPU slot.
const (
	groupBatch = 500
	groupSlice = 50
)

// GroupPending places every item that waits for story grouping into its
// story, in the order they arrived, a batch per transaction, and tells
// OnChange which tags' stories changed. It returns how many it grouped. A
// batch the grouper has taken is recorded even if ctx ends meanwhile.
func (p *Poller) GroupPending(ctx context.Context) (int, error) {
	if p.Stories == nil {
		return 0, nil
	}
	total := 0
	for ctx.Err() == nil {
		rows, err := p.db.Ungrouped(ctx, groupBatch)
		if err != nil || len(rows) == 0 {
			return total, err
		}
		g := feedmux.Grouping{Stories: map[int64]int64{}}
		for i, r := range rows {
			// Grouping is CPU work like parsing: it takes the same slots,
			// a few items at a time, so that serving keeps the rest.
			if i%groupSlice == 0 {
				if i > 0 {
					<-p.cpu
				}
				p.cpu <- struct{}{}
			}
			story := p.Stories.Add(StoryItem{ID: r.ID, Title: r.Title, URL: r.URL, Source: r.Source, Published: r.Time, Arrived: r.FirstSeen})
			if story != r.ID {
				g.Stories[r.ID] = story
			}
			g.Grouped = append(g.Grouped, r.ID)
		}
		<-p.cpu
		g.Merged = p.Stories.TakeMerges()
		tags, err := p.db.SaveGrouping(context.WithoutCancel(ctx), g)
		if err != nil {
			return total, err
		}
		total += len(rows)
		if len(tags) > 0 && p.OnChange != nil {
			p.OnChange(tags)
		}
	}
	return total, nil
}

// leaderRetry is how long a process waits to ask again when asking
// whether it leads failed.
const leaderRetry = 5 * time.Second

// RunGrouping groups waiting items until ctx ends, as Run does beside
// polling. On a store several
// processes share, only the one elected does: the others' polls leave
// their new items waiting in the database, where the leader finds them,
// and a process that takes over loads the window again first.
func (p *Poller) RunGrouping(ctx context.Context) {
	e, shared := p.db.(feedmux.Elector)
	if !shared {
		p.groupLoop(ctx)
		return
	}
	for ctx.Err() == nil {
		lead, err := e.Lead(ctx, "grouping")
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("asking to lead story grouping failed", "error", err)
				sleepCtx(ctx, leaderRetry)
			}
			continue
		}
		p.log.Info("leading story grouping")
		p.groupingLead.Store(true)
		p.Stories.Reset()
		if err := p.LoadStories(lead); err != nil && lead.Err() == nil {
			p.log.Error("story grouping: loading the window failed", "error", err)
		}
		p.groupLoop(lead)
		p.groupingLead.Store(false)
		if ctx.Err() == nil {
			p.log.Info("no longer leading story grouping")
		}
	}
}

// LeadsGrouping reports whether this process groups stories now: always on
// a store of its own, while elected on a shared one.
func (p *Poller) LeadsGrouping() bool {
	if _, shared := p.db.(feedmux.Elector); !shared {
		return p.Stories != nil
	}
	return p.groupingLead.Load()
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// groupLoop groups waiting items whenever polls store new ones (and once
// a minute, for items a failed batch left), until ctx ends. Polling never
// waits for it: polls only mark their new items as waiting.
func (p *Poller) groupLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if _, err := p.GroupPending(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("story grouping stopped; it starts again at the next poll that stores items", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.grouping:
		case <-t.C:
		}
	}
}

// wakeGrouping tells RunGrouping that items wait, without waiting for it.
func (p *Poller) wakeGrouping() {
	select {
	case p.grouping <- struct{}{}:
	default:
	}
}

// LoadStories fills the story grouper with the items of its window from
// the database, so that a restart does not split stories.
func (p *Poller) LoadStories(ctx context.Context) error {
	if p.Stories == nil {
		return nil
	}
	rows, err := p.db.StoryWindow(ctx, p.Now().Add(-p.Stories.cfg.Window))
	if err != nil {
		return fmt.Errorf("load stories: %w", err)
	}
	for _, r := range rows {
		p.Stories.Add(StoryItem{ID: r.ID, Story: r.Story, Title: r.Title, URL: r.URL, Source: r.Source, Published: r.Time, Arrived: r.FirstSeen})
	}
	return nil
}

// retagKey is the meta key of the fingerprint of the rules the stored
// items were last tagged with.
const retagKey = "rules"

// Retag brings the tags of stored items in line with the current rules
// when they changed since the items were tagged, a batch at a time, and
// tells OnChange which tags changed. Items of feeds not in feeds (removed
// from the configuration) keep their tags. It is meant to run in the
// background; ctx stops it between batches, and an interrupted run starts
// over next time.
func (p *Poller) Retag(ctx context.Context, feeds []feedmux.Feed) (changed int, err error) {
	tagger := p.tagger.Load()
	done, err := p.db.Meta(ctx, retagKey)
	if err != nil {
		return 0, err
	}
	if done == tagger.Fingerprint() {
		return 0, nil
	}
	byURL := make(map[string]feedmux.Feed, len(feeds))
	for _, f := range feeds {
		byURL[f.URL] = f
	}
	for after := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return changed, err
		}
		rows, last, err := p.db.RetagBatch(ctx, after, 500)
		if err != nil {
			return changed, err
		}
		if last == 0 {
			break
		}
		after = last
		tags := map[int64][]string{}
		skip := map[int64]bool{}
		for _, r := range rows {
			feed, ok := byURL[r.FeedURL]
			if !ok {
				skip[r.Target] = true
				continue
			}
			tags[r.Target] = append(tags[r.Target], tagger.Tags(feed, &r.Item)...)
		}
		for id := range skip {
			delete(tags, id)
		}
		if len(tags) == 0 {
			continue
		}
		moved, err := p.db.SetTags(ctx, tags)
		if err != nil {
			return changed, err
		}
		if len(moved) > 0 {
			changed += len(moved)
			if p.OnChange != nil {
				p.OnChange(moved)
			}
		}
	}
	return changed, p.db.SetMeta(ctx, retagKey, tagger.Fingerprint())
}
