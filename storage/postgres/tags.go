package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// RetagBatch returns the items whose target lies in (after, after+n], and
// the last target id of the batch; last is 0 when there are none left.
func (db *DB) RetagBatch(ctx context.Context, after int64, n int) (rows []feedmux.RetagRow, last int64, err error) {
	var maxID int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM items`).Scan(&maxID); err != nil {
		return nil, 0, fmt.Errorf("retag: %w", err)
	}
	if after >= maxID {
		return nil, 0, nil
	}
	hi := after + int64(n)
	q, err := db.pool.Query(ctx, `
		SELECT i.id, coalesce(i.dup_of, i.id), f.url, i.title, i.summary, i.content, i.categories
		FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE (i.id > $1 AND i.id <= $2 AND i.dup_of IS NULL) OR (i.dup_of > $1 AND i.dup_of <= $2)
		ORDER BY 2, 1`, after, hi)
	if err != nil {
		return nil, 0, fmt.Errorf("retag: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var (
			r    feedmux.RetagRow
			cats string
		)
		if err := q.Scan(&r.ID, &r.Target, &r.FeedURL, &r.Item.Title, &r.Item.Summary, &r.Item.Content, &cats); err != nil {
			return nil, 0, fmt.Errorf("retag: %w", err)
		}
		if err := json.Unmarshal([]byte(cats), &r.Item.Categories); err != nil {
			return nil, 0, fmt.Errorf("retag item %d categories: %w", r.ID, err)
		}
		rows = append(rows, r)
	}
	return rows, hi, q.Err()
}

// SetTags replaces the tags of items (row id: tags) where they differ and
// returns every tag added or removed.
func (db *DB) SetTags(ctx context.Context, tags map[int64][]string) ([]string, error) {
	var out []string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		changed := map[string]bool{}
		for id, want := range tags {
			if err := setItemTags(ctx, tx, id, want, changed); err != nil {
				return err
			}
		}
		for t := range changed {
			out = append(out, t)
		}
		slices.Sort(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set tags: %w", err)
	}
	return out, nil
}

// setItemTags gives the item id the tags want, adding those it adds or
// removes to changed.
func setItemTags(ctx context.Context, tx pgx.Tx, id int64, want []string, changed map[string]bool) error {
	var (
		have     *string
		sortTime int64
	)
	err := tx.QueryRow(ctx, `SELECT (SELECT string_agg(tag, ' ') FROM item_tags WHERE item_id = $1), sort_time
		FROM items WHERE id = $1`, id).Scan(&have, &sortTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // removed meanwhile
	}
	if err != nil {
		return err
	}
	var old []string
	if have != nil {
		old = strings.Fields(*have)
	}
	slices.Sort(old)
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	if slices.Equal(old, want) {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM item_tags WHERE item_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO item_tags (item_id, tag, sort_time)
		SELECT $1, tag, $2 FROM unnest($3::text[]) tag`, id, sortTime, nonNil(want)); err != nil {
		return err
	}
	for _, t := range old {
		if !slices.Contains(want, t) {
			changed[t] = true
		}
	}
	for _, t := range want {
		if !slices.Contains(old, t) {
			changed[t] = true
		}
	}
	return nil
}
