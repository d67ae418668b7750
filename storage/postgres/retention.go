package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// Prune removes the items retention no longer allows, batch items per
// transaction so that polling and serving go on between batches, leaves a
// tombstone of each, and forgets tombstones old enough that no source
// lists their items any more. Autovacuum reclaims the space.
func (db *DB) Prune(ctx context.Context, r feedmux.Retention, batch int) (feedmux.PruneResult, error) {
	var res feedmux.PruneResult
	tags := map[string]bool{}
	now := db.Now().UTC()
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var n int
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			ids, err := expiredItems(ctx, tx, r, now, batch)
			if err != nil {
				return err
			}
			n = len(ids)
			return removeItems(ctx, tx, ids, now, tags)
		})
		if err != nil {
			return res, fmt.Errorf("prune: %w", err)
		}
		res.Removed += n
		if n < batch {
			break
		}
	}
	if r.MaxAge > 0 {
		// A source lists an item for days or weeks; a year past the age
		// limit, none still does.
		cutoff := now.Add(-2*r.MaxAge - 365*24*time.Hour)
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			out, err := tx.Exec(ctx, `DELETE FROM tombstones WHERE removed_at < $1`, cutoff.Unix())
			res.Tombstones = int(out.RowsAffected())
			return err
		})
		if err != nil {
			return res, fmt.Errorf("prune tombstones: %w", err)
		}
	}
	for t := range tags {
		res.Tags = append(res.Tags, t)
	}
	slices.Sort(res.Tags)
	return res, nil
}

// expiredItems returns up to limit ids of items older than the age limit
// or beyond their feed's count limit.
func expiredItems(ctx context.Context, tx pgx.Tx, r feedmux.Retention, now time.Time, limit int) ([]int64, error) {
	var parts []string
	var p params
	if r.MaxAge > 0 {
		parts = append(parts, `SELECT id FROM items WHERE first_seen < `+p.add(now.Add(-r.MaxAge).Unix()))
	}
	if r.MaxItemsPerFeed > 0 {
		parts = append(parts, `SELECT id FROM (SELECT id, row_number() OVER
			(PARTITION BY feed_id ORDER BY sort_time DESC, id DESC) AS n FROM items) ranked WHERE n > `+
			p.add(r.MaxItemsPerFeed))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return queryColumn[int64](ctx, tx, strings.Join(parts, " UNION ")+` LIMIT `+p.add(limit), p...)
}

// removeItems deletes items, leaving tombstones and collecting the tags
// they showed under into tags. The first copy of an article that others
// repeat hands its place to the oldest remaining copy, with its tags.
func removeItems(ctx context.Context, tx pgx.Tx, ids []int64, now time.Time, tags map[string]bool) error {
	for _, id := range ids {
		shown, err := queryColumn[string](ctx, tx, `SELECT tag FROM item_tags WHERE item_id = $1`, id)
		if err != nil {
			return err
		}
		for _, t := range shown {
			tags[t] = true
		}
		var heir *int64
		if err := tx.QueryRow(ctx, `SELECT min(id) FROM items WHERE dup_of = $1`, id).Scan(&heir); err != nil {
			return err
		}
		if heir != nil {
			if err := passOn(ctx, tx, id, *heir); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tombstones (feed_id, key, removed_at)
			SELECT feed_id, key, $1 FROM items WHERE id = $2
			ON CONFLICT (feed_id, key) DO UPDATE SET removed_at = excluded.removed_at`, now.Unix(), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM items WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}

// passOn makes heir, a copy of the item id, the first in its place: the
// other copies become heir's, and heir takes id's tags.
func passOn(ctx context.Context, tx pgx.Tx, id, heir int64) error {
	if _, err := tx.Exec(ctx, `UPDATE items SET dup_of = NULL WHERE id = $1`, heir); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE items SET dup_of = $1 WHERE dup_of = $2`, heir, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_tags (item_id, tag, sort_time)
		SELECT $1, tag, (SELECT sort_time FROM items WHERE id = $1) FROM item_tags WHERE item_id = $2
		ON CONFLICT DO NOTHING`, heir, id)
	return err
}
