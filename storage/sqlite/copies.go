package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/feedmux/feedmux"
)

// copyWindow bounds how far apart in time an aggregator's copy and the
// publisher's item may be and still be taken for one article: a headline
// a publisher reuses (a daily briefing) is another article a week later.
const copyWindow = 3 * 24 * time.Hour

// copies recognizes, for an item just inserted, the article another feed
// brought already, so that it is stored once and shown once:
//
//   - the same canonical URL (feedmux.CanonicalURL): the later item is a
//     copy of the first;
//   - an aggregator's item and the publisher's own (the same
//     feedmux.CopyKey, within copyWindow): the publisher's item is the
//     first, whichever arrived first. When the aggregator's came first, the
//     publisher's takes its place: its copies, its tags and its story.
type copies struct {
	byURL, byKey, aggregatorByKey, mark, inheritStory, adopt, takeTags *sql.Stmt
	anyAggregated                                                      bool // some feed brought an aggregator's item
}

// statements are the copies' statements and their SQL.
func (c *copies) statements() []stmtSpec {
	return []stmtSpec{
		// canonical_url <> '' lets SQLite use the partial index.
		{&c.byURL, `SELECT id, origin_url <> '' FROM items WHERE canonical_url = ?1 AND canonical_url <> ''
			AND feed_id <> ?2 AND dup_of IS NULL ORDER BY id LIMIT 1`},
		// Each key lookup is a range scan of the window in its index.
		{&c.byKey, `SELECT id FROM items INDEXED BY items_by_copy_key WHERE copy_key = ?1 AND copy_key <> ''
			AND sort_time BETWEEN ?3 - ?4 AND ?3 + ?4 AND feed_id <> ?2 AND dup_of IS NULL ORDER BY id LIMIT 1`},
		{&c.aggregatorByKey, `SELECT id FROM items INDEXED BY items_aggregated WHERE copy_key = ?1 AND origin_url <> ''
			AND sort_time BETWEEN ?3 - ?4 AND ?3 + ?4 AND feed_id <> ?2 AND dup_of IS NULL ORDER BY id LIMIT 1`},
		{&c.mark, `UPDATE items SET dup_of = ?1, ungrouped = 0, page_state = 0 WHERE id = ?2`},
		// A grouped aggregator's item hands its story on; one still waiting
		// for the grouper leaves the publisher's item to wait too.
		{&c.inheritStory, `UPDATE items SET ungrouped = 0,
			story_id = (SELECT coalesce(story_id, id) FROM items WHERE id = ?2)
			WHERE id = ?1 AND (SELECT ungrouped FROM items WHERE id = ?2) = 0`},
		{&c.adopt, `UPDATE items SET dup_of = ?1, ungrouped = 0, page_state = 0 WHERE id = ?2 OR dup_of = ?2`},
		{&c.takeTags, `DELETE FROM item_tags WHERE item_id = ? RETURNING tag`},
	}
}

// copyKey is the item's feedmux.CopyKey: an aggregator's item is keyed by
// its publisher, the publisher's item by its own link.
func copyKey(it *feedmux.Item) string {
	if it.Origin.Title != "" {
		return feedmux.CopyKey(it.Origin.SiteURL, it.Title)
	}
	return feedmux.CopyKey(it.URL, it.Title)
}

// placed is where place put an inserted item.
type placed struct {
	first   int64    // the item it is a copy of; 0 when it is a first
	adopted bool     // it took an aggregator's item's place, story included
	tags    []string // the tags it took over from that item
}

// place finds the item that the inserted item id (of feedID, with its
// canonical URL and copy key) is a copy of, or that it takes the place of.
func (c *copies) place(ctx context.Context, it *feedmux.Item, id, feedID, sortTime int64, canonical, key string) (placed, error) {
	var (
		first      int64
		aggregated bool // first is an aggregator's item
	)
	err := c.byURL.QueryRowContext(ctx, canonical, feedID).Scan(&first, &aggregated)
	if err == nil && aggregated && it.Origin.Title == "" {
		// The aggregator's link led to the article: the publisher's own
		// item takes the place of its copy.
		return c.takePlace(ctx, id, first)
	}
	if err == sql.ErrNoRows && key != "" && (it.Origin.Title != "" || c.anyAggregated) {
		find := c.aggregatorByKey
		if it.Origin.Title != "" {
			find = c.byKey
		}
		err = find.QueryRowContext(ctx, key, feedID, sortTime, int64(copyWindow/time.Second)).Scan(&first)
		if err == nil && it.Origin.Title == "" {
			return c.takePlace(ctx, id, first)
		}
	}
	switch {
	case err == sql.ErrNoRows:
		return placed{}, nil
	case err != nil:
		return placed{}, err
	}
	_, err = c.mark.ExecContext(ctx, first, id)
	return placed{first: first}, err
}

// takePlace makes the publisher's item id the first in place of the
// aggregator's item agg: agg and its copies become id's copies, and id
// takes its tags and its story.
func (c *copies) takePlace(ctx context.Context, id, agg int64) (placed, error) {
	res, err := c.inheritStory.ExecContext(ctx, id, agg)
	if err != nil {
		return placed{}, err
	}
	n, _ := res.RowsAffected()
	if _, err := c.adopt.ExecContext(ctx, id, agg); err != nil {
		return placed{}, err
	}
	tags, err := scanColumn[string](c.takeTags.QueryContext(ctx, agg))
	return placed{adopted: n > 0, tags: tags}, err
}
