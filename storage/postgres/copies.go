package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// copyWindow bounds how far apart in time an aggregator's copy and the
// publisher's item may be and still be taken for one article: a headline
// a publisher reuses (a daily briefing) is another article a week later.
const copyWindow = 3 * 24 * time.Hour

// The copies of one article across feeds, as storage/sqlite's copies.go
// recognizes them, for an item just inserted:
//
//   - the same canonical URL (feedmux.CanonicalURL): the later item is a
//     copy of the first;
//   - an aggregator's item and the publisher's own (the same
//     feedmux.CopyKey, within copyWindow): the publisher's item is the
//     first, whichever arrived first. When the aggregator's came first, the
//     publisher's takes its place: its copies, its tags and its story.
const (
	// canonical_url <> '' and copy_key <> '' match the partial indexes.
	copyByURLSQL = `SELECT id, origin_url <> '' FROM items WHERE canonical_url = $1 AND canonical_url <> ''
		AND feed_id <> $2 AND dup_of IS NULL ORDER BY id LIMIT 1`
	copyByKeySQL = `SELECT id FROM items WHERE copy_key = $1 AND copy_key <> ''
		AND sort_time BETWEEN $3::bigint - $4::bigint AND $3::bigint + $4::bigint
		AND feed_id <> $2 AND dup_of IS NULL ORDER BY id LIMIT 1`
	aggregatorByKeySQL = `SELECT id FROM items WHERE copy_key = $1 AND origin_url <> ''
		AND sort_time BETWEEN $3::bigint - $4::bigint AND $3::bigint + $4::bigint
		AND feed_id <> $2 AND dup_of IS NULL ORDER BY id LIMIT 1`
)

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
func place(ctx context.Context, tx pgx.Tx, it *feedmux.Item, id, feedID, sortTime int64, canonical, key string) (placed, error) {
	var (
		first      int64
		aggregated bool // first is an aggregator's item
	)
	err := tx.QueryRow(ctx, copyByURLSQL, text(canonical), feedID).Scan(&first, &aggregated)
	if err == nil && aggregated && it.Origin.Title == "" {
		// The aggregator's link led to the article: the publisher's own
		// item takes the place of its copy.
		return takePlace(ctx, tx, id, first)
	}
	if errors.Is(err, pgx.ErrNoRows) && key != "" {
		find := aggregatorByKeySQL
		if it.Origin.Title != "" {
			find = copyByKeySQL
		}
		err = tx.QueryRow(ctx, find, text(key), feedID, sortTime, int64(copyWindow/time.Second)).Scan(&first)
		if err == nil && it.Origin.Title == "" {
			return takePlace(ctx, tx, id, first)
		}
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return placed{}, nil
	case err != nil:
		return placed{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE items SET dup_of = $1, ungrouped = false, page_state = 0 WHERE id = $2`, first, id)
	return placed{first: first}, err
}

// takePlace makes the publisher's item id the first in place of the
// aggregator's item agg: agg and its copies become id's copies, and id
// takes its tags and its story.
func takePlace(ctx context.Context, tx pgx.Tx, id, agg int64) (placed, error) {
	// A grouped aggregator's item hands its story on; one still waiting
	// for the grouper leaves the publisher's item to wait too.
	tag, err := tx.Exec(ctx, `UPDATE items SET ungrouped = false,
		story_id = (SELECT coalesce(story_id, id) FROM items WHERE id = $2)
		WHERE id = $1 AND NOT (SELECT ungrouped FROM items WHERE id = $2)`, id, agg)
	if err != nil {
		return placed{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE items SET dup_of = $1, ungrouped = false, page_state = 0
		WHERE id = $2 OR dup_of = $2`, id, agg); err != nil {
		return placed{}, err
	}
	tags, err := queryColumn[string](ctx, tx, `DELETE FROM item_tags WHERE item_id = $1 RETURNING tag`, agg)
	return placed{adopted: tag.RowsAffected() > 0, tags: tags}, err
}
