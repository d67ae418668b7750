package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Prune removes the items retention no longer allows, batch items per
// transaction so that polling and serving go on between batches, leaves a
// tombstone of each, forgets tombstones old enough that no source lists
// their items any more, and gives the freed pages back to the file system.
func (db *DB) Prune(ctx context.Context, r Retention, batch int) (PruneResult, error) {
	var res PruneResult
	tags := map[string]bool{}
	now := db.Now().UTC()
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var n int
		err := db.inTx(ctx, func(tx *sql.Tx) error {
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
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			out, err := tx.ExecContext(ctx, `DELETE FROM tombstones WHERE removed_at < ?`, cutoff.Unix())
			if err != nil {
				return err
			}
			n, _ := out.RowsAffected()
			res.Tombstones = int(n)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("prune tombstones: %w", err)
		}
	}
	if res.Removed > 0 {
		if _, err := db.write.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return res, fmt.Errorf("prune: vacuum: %w", err)
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
func expiredItems(ctx context.Context, tx *sql.Tx, r Retention, now time.Time, limit int) ([]int64, error) {
	var parts []string
	var args []any
	if r.MaxAge > 0 {
		parts = append(parts, `SELECT id FROM items WHERE first_seen < ?`)
		args = append(args, now.Add(-r.MaxAge).Unix())
	}
	if r.MaxItemsPerFeed > 0 {
		parts = append(parts, `SELECT id FROM (SELECT id, row_number() OVER
			(PARTITION BY feed_id ORDER BY sort_time DESC, id DESC) AS n FROM items) WHERE n > ?`)
		args = append(args, r.MaxItemsPerFeed)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	args = append(args, limit)
	return queryIDs(ctx, tx, strings.Join(parts, " UNION ")+` LIMIT ?`, args...)
}

func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	return scanColumn[int64](tx.QueryContext(ctx, query, args...))
}

// removeItems deletes items, leaving tombstones and collecting the tags
// they showed under into tags. The first copy of an article that others
// repeat hands its place to the oldest remaining copy, with its tags.
func removeItems(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time, tags map[string]bool) error {
	for _, id := range ids {
		shown, err := scanColumn[string](tx.QueryContext(ctx, `SELECT tag FROM item_tags WHERE item_id = ?`, id))
		if err != nil {
			return err
		}
		for _, t := range shown {
			tags[t] = true
		}
		var heir sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM items WHERE dup_of = ?`, id).Scan(&heir); err != nil {
			return err
		}
		if heir.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE items SET dup_of = NULL WHERE id = ?`, heir.Int64); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE items SET dup_of = ?1 WHERE dup_of = ?2`, heir.Int64, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO item_tags (item_id, tag, sort_time)
				SELECT ?1, tag, (SELECT sort_time FROM items WHERE id = ?1) FROM item_tags WHERE item_id = ?2`, heir.Int64, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO tombstones (feed_id, key, removed_at)
			SELECT feed_id, key, ? FROM items WHERE id = ?`, now.Unix(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}
