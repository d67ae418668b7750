package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/feedmux/feedmux"
)

// SaveItems records one poll of a feed in a single transaction: its new state
// and its items. New items are inserted, changed ones updated (with their
// tags), unchanged ones left alone; nothing is deleted. An item's FirstSeen is
// kept from its first insertion, and set to now when zero.
func (db *DB) SaveItems(ctx context.Context, st feedmux.FeedState, items []feedmux.Item) (SaveResult, error) {
	res, err := db.saveItems(ctx, items, func(tx *sql.Tx) (int64, error) { return db.saveFeedState(ctx, tx, &st) })
	if err != nil {
		return SaveResult{}, fmt.Errorf("save items of %s: %w", st.URL, err)
	}
	return res, nil
}

// AddItems stores items of the feed configured with feedURL as SaveItems
// does, without touching the feed's state (its validators, schedule and
// errors belong to polling): for the items a hub pushed. Nothing is
// deleted, as by SaveItems; the feed must have been stored
// (feedmux.ErrFeedNotFound otherwise).
func (db *DB) AddItems(ctx context.Context, feedURL string, items []feedmux.Item) (SaveResult, error) {
	res, err := db.saveItems(ctx, items, func(tx *sql.Tx) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM feeds WHERE url = ?`, feedURL).Scan(&id)
		if err == sql.ErrNoRows {
			err = feedmux.ErrFeedNotFound
		}
		return id, err
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("add items of %s: %w", feedURL, err)
	}
	return res, nil
}

// saveItems writes items in one transaction, under the feed whose row id
// feed returns in it. The transaction may carry other polls' writes too
// (storage/batch), so its statements run to the end once begun, whatever
// becomes of ctx.
func (db *DB) saveItems(ctx context.Context, items []feedmux.Item, feed func(*sql.Tx) (int64, error)) (SaveResult, error) {
	var res SaveResult
	now := db.Now().UTC()
	caller, ctx := ctx, context.WithoutCancel(ctx)
	rows := itemRows(items)
	err := db.group.Do(caller, func(tx *sql.Tx) error {
		res = SaveResult{}
		feedID, err := feed(tx)
		if err != nil || len(items) == 0 {
			return err
		}
		sv, err := db.newSaver(ctx, tx, feedID, now)
		if err != nil {
			return err
		}
		for i := range items {
			if err := sv.save(&items[i], &rows[i], &res); err != nil {
				return err
			}
		}
		db.indexLater(sv.search)
		if res.Inserted > 0 {
			if err := db.afterInsert(ctx, tx, feedID, now, &res, sv.changed); err != nil {
				return err
			}
		}
		for tag := range sv.changed {
			res.Tags = append(res.Tags, tag)
		}
		slices.Sort(res.Tags)
		return nil
	})
	return res, err
}

// afterInsert records that the feed brought something new, and keeps only
// its newest items when retention limits them: now rather than at the next
// prune.
func (db *DB) afterInsert(ctx context.Context, tx *sql.Tx, feedID int64, now time.Time, res *SaveResult, changed map[string]bool) error {
	mark, err := db.stmt(ctx, tx, lastNewItemSQL)
	if err != nil {
		return err
	}
	if _, err := mark.ExecContext(ctx, now.Unix(), feedID); err != nil {
		return err
	}
	limit := db.Retention.MaxItemsPerFeed
	if limit <= 0 {
		return nil
	}
	overLimit, err := db.stmt(ctx, tx, overLimitSQL)
	if err != nil {
		return err
	}
	over, err := scanColumn[int64](overLimit.QueryContext(ctx, feedID, limit))
	if err != nil {
		return err
	}
	if err := removeItems(ctx, tx, over, now, changed); err != nil {
		return err
	}
	res.New = slices.DeleteFunc(res.New, func(n NewItem) bool { return slices.Contains(over, n.ID) })
	return nil
}

const (
	lastNewItemSQL = `UPDATE feeds SET last_new_item = ? WHERE id = ?`
	// overLimitSQL selects a feed's items beyond the newest ?2.
	overLimitSQL = `SELECT id FROM items WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC LIMIT -1 OFFSET ?2`
)

// scanColumn reads the one column of rows, as the query that made them
// returned them (rows, err).
func scanColumn[T any](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
