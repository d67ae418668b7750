package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	storerows "github.com/feedmux/feedmux/storage/rows"
)

// Page states of an item (items.page_state).
const (
	pageNone    = 0
	pageToFetch = 1
	pageFetched = 2
	pageGivenUp = 3
	pageReapply = 4
)

// pageOnUpdate is the part of the item upsert that keeps an updated item's
// page: fetched again when its link changed (or it had none), applied again
// when it did not. ?20 says whether the feed wants pages.
const pageOnUpdate = `
		page_state = CASE WHEN NOT ?20 THEN 0
			WHEN items.url <> excluded.url OR items.page_state IN (0, 3) THEN 1
			WHEN items.page_state = 2 THEN 4 ELSE items.page_state END,
		page_tries = CASE WHEN items.url <> excluded.url THEN 0 ELSE items.page_tries END,
		page_due = 0,
		article = CASE WHEN ?20 AND items.url = excluded.url THEN items.article ELSE '' END,
		page_meta = CASE WHEN ?20 AND items.url = excluded.url THEN items.page_meta ELSE '' END`

// DuePages returns up to limit items whose page is due at now, oldest
// first.
func (db *DB) DuePages(ctx context.Context, now time.Time, limit int) ([]PageJob, error) {
	rows, err := db.query(ctx, `SELECT i.id, f.url, i.key, i.url, i.title, i.summary, i.content, i.author,
		i.categories, i.enclosures, i.published, i.updated, i.page_tries, i.page_state, i.article, i.page_meta
		FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.page_state IN (1, 4) AND i.page_due <= ? ORDER BY i.page_due, i.id LIMIT ?`, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("due pages: %w", err)
	}
	defer rows.Close()
	var jobs []PageJob
	for rows.Next() {
		var (
			j                  PageJob
			cats, encs, meta   string
			published, updated sql.NullInt64
			state              int
		)
		if err := rows.Scan(&j.ID, &j.FeedURL, &j.Item.Key, &j.Item.URL, &j.Item.Title, &j.Item.Summary, &j.Item.Content,
			&j.Item.Author, &cats, &encs, &published, &updated, &j.Tries, &state, &j.Article, &meta); err != nil {
			return nil, fmt.Errorf("due pages: %w", err)
		}
		if err := storerows.DecodeItemJSON(&j.Item, cats, encs); err != nil {
			return nil, err
		}
		j.Item.Published, j.Item.Updated = fromNullUnix(published), fromNullUnix(updated)
		j.Reapply = state == pageReapply
		if meta != "" {
			if err := json.Unmarshal([]byte(meta), &j.Meta); err != nil {
				return nil, fmt.Errorf("item %q page: %w", j.Item.Key, err)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// NextPageDue is when the next page is due; ok is false when none waits.
func (db *DB) NextPageDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var next sql.NullInt64
	err = db.read.QueryRowContext(ctx, `SELECT min(page_due) FROM items WHERE page_state IN (1, 4)`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return time.Unix(next.Int64, 0), true, nil
}

// SavePage stores an item's page and what it changes, and returns the
// tags whose feeds changed. The item's tags are added to, never taken
// away: a first carries the tags of its copies too.
func (db *DB) SavePage(ctx context.Context, id int64, u PageUpdate) ([]string, error) {
	cats, _ := json.Marshal(nonNil(u.Item.Categories))
	encs := storerows.EnclosuresJSON(u.Item.Enclosures)
	meta, _ := json.Marshal(u.Meta)
	var tags []string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		tags = nil
		var (
			sortTime                int64
			title, summary, content string
		)
		err := tx.QueryRowContext(ctx, `UPDATE items SET article = ?2, page_meta = ?3, page_state = 2, page_due = 0,
			categories = ?4, enclosures = ?5, author = ?6, published = ?7,
			sort_time = coalesce(?7, updated, first_seen),
			page_us = CASE WHEN ?8 > 0 THEN ?8 ELSE page_us END
			WHERE id = ?1 AND page_state IN (1, 4) RETURNING sort_time, title, summary, content`,
			id, u.Article, string(meta), string(cats), string(encs), u.Item.Author, nullUnix(u.Item.Published),
			u.Extract.Microseconds()).Scan(&sortTime, &title, &summary, &content)
		if err == sql.ErrNoRows {
			return nil // changed or removed meanwhile: the next job sees it
		}
		if err != nil {
			return err
		}
		if err := indexItems(ctx, tx, []searchRow{{id: id, title: title, summary: summary, content: content, article: u.Article}}); err != nil {
			return err
		}
		tagsJSON, _ := json.Marshal(nonNil(u.Item.Tags))
		for _, q := range []string{`UPDATE item_tags SET sort_time = ?2 WHERE item_id = ?1`,
			`INSERT OR IGNORE INTO item_tags (item_id, tag, sort_time) SELECT ?1, value, ?2 FROM json_each(?3)`} {
			if _, err := tx.ExecContext(ctx, q, id, sortTime, string(tagsJSON)); err != nil {
				return err
			}
		}
		tags, err = scanColumn[string](tx.QueryContext(ctx, `SELECT tag FROM item_tags WHERE item_id = ?`, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save page of item %d: %w", id, err)
	}
	return tags, nil
}

// PageFailed records a failed attempt at an item's page: tried again at
// retry, or never when giveUp.
func (db *DB) PageFailed(ctx context.Context, id int64, retry time.Time, giveUp bool) error {
	state := pageToFetch
	if giveUp {
		state = pageGivenUp
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE items SET page_state = ?2, page_tries = page_tries + 1, page_due = ?3
			WHERE id = ?1 AND page_state = 1`, id, state, retry.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("page of item %d: %w", id, err)
	}
	return nil
}

// PagesWaiting is the number of items whose page is yet to be fetched.
func (db *DB) PagesWaiting(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE page_state IN (1, 4)`).Scan(&n)
	return n, err
}
