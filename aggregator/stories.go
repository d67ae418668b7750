package aggregator

import (
	"context"
	"fmt"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage"
)

// group places the items a poll inserted into stories and records them; it
// returns the tags of the items that joined an earlier story.
func (p *Poller) group(ctx context.Context, source string, items []feedmux.Item, inserted []storage.NewItem) ([]string, error) {
	byKey := make(map[string]*feedmux.Item, len(items))
	for i := range items {
		byKey[items[i].Key] = &items[i]
	}
	joined := map[int64]int64{}
	for _, n := range inserted {
		it := byKey[n.Key]
		if it == nil {
			continue
		}
		arrived := it.FirstSeen
		if arrived.IsZero() {
			arrived = p.Now()
		}
		story := p.Stories.Add(StoryItem{ID: n.ID, Title: it.Title, URL: it.URL, Source: source, Published: it.Time(), Arrived: arrived})
		if story != n.ID {
			joined[n.ID] = story
		}
	}
	merged := p.Stories.TakeMerges()
	if len(joined) == 0 && len(merged) == 0 {
		return nil, nil
	}
	// The write goes on if ctx ends: the grouper already holds it.
	return p.db.SetStories(context.WithoutCancel(ctx), joined, merged)
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
