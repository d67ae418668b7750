package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// StoryPage returns the stories that have an item matching filter (its
// Tags and Exclude), newest activity first, each with all its members.
func (db *DB) StoryPage(ctx context.Context, filter ItemFilter) (StoryPage, error) {
	limit := filter.Limit
	if limit <= 0 {
		limit = 50
	}
	before := filter.Before
	if before.IsZero() {
		before = Cursor{Time: math.MaxInt64, ID: math.MaxInt64}
	}
	args := []any{before.Time, before.ID, limit + 1}
	var where string
	if len(filter.Tags) > 0 {
		nums := make([]string, len(filter.Tags))
		for i, t := range filter.Tags {
			args = append(args, t)
			nums[i] = "?" + strconv.Itoa(len(args))
		}
		where = `i.id IN (SELECT item_id FROM item_tags WHERE tag IN (` + strings.Join(nums, ", ") + `))`
	} else {
		where = `i.dup_of IS NULL`
	}
	if len(filter.Exclude) > 0 {
		nums := make([]string, len(filter.Exclude))
		for i, t := range filter.Exclude {
			args = append(args, t)
			nums[i] = "?" + strconv.Itoa(len(args))
		}
		where += ` AND NOT EXISTS (SELECT 1 FROM item_tags x WHERE x.item_id = i.id AND x.tag IN (` + strings.Join(nums, ", ") + `))`
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT story, activity FROM (
			SELECT coalesce(i.story_id, i.id) AS story, max(i.sort_time) AS activity
			FROM items i WHERE `+where+` GROUP BY story)
		WHERE (activity, story) < (?1, ?2) ORDER BY activity DESC, story DESC LIMIT ?3`, args...)
	if err != nil {
		return StoryPage{}, fmt.Errorf("stories: %w", err)
	}
	var page StoryPage
	var ids []any
	index := map[int64]int{}
	for rows.Next() {
		var s Story
		var activity int64
		if err := rows.Scan(&s.ID, &activity); err != nil {
			rows.Close()
			return StoryPage{}, fmt.Errorf("stories: %w", err)
		}
		s.Activity = time.Unix(activity, 0).UTC()
		index[s.ID] = len(page.Stories)
		page.Stories = append(page.Stories, s)
		ids = append(ids, s.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return StoryPage{}, fmt.Errorf("stories: %w", err)
	}
	if len(page.Stories) > limit {
		last := page.Stories[limit-1]
		page.Next = Cursor{Time: last.Activity.Unix(), ID: last.ID}
		page.Stories = page.Stories[:limit]
		ids = ids[:limit]
	}
	if len(ids) == 0 {
		if err := db.checkTags(ctx, filter.Tags, nil); err != nil {
			return StoryPage{}, err
		}
		return page, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args = append(append([]any{}, ids...), ids...)
	members, cursors, err := db.queryItems(ctx, `SELECT `+itemColumns+` FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.dup_of IS NULL AND (i.story_id IN (`+in+`) OR (i.story_id IS NULL AND i.id IN (`+in+`)))
		ORDER BY i.sort_time, i.id`, args...)
	if err != nil {
		return StoryPage{}, fmt.Errorf("story members: %w", err)
	}
	for k, it := range members {
		if i, ok := index[cursors[k].Story]; ok {
			page.Stories[i].Items = append(page.Stories[i].Items, it)
		}
	}
	return page, nil
}

// checkTags returns feedmux.ErrUnknownTag for the first of tags that no
// item and no configured feed carries, unless an item of items shows it.
func (db *DB) checkTags(ctx context.Context, tags []string, items []feedmux.Item) error {
	for _, tag := range tags {
		if slices.ContainsFunc(items, func(it feedmux.Item) bool { return slices.Contains(it.Tags, tag) }) {
			continue
		}
		known, err := db.tagKnown(ctx, tag)
		if err != nil {
			return fmt.Errorf("items %q: %w", tags, err)
		}
		if !known {
			return fmt.Errorf("tag %q: %w", tag, feedmux.ErrUnknownTag)
		}
	}
	return nil
}

// TopStories returns, for each tag, its largest stories (by members)
// among the items since since: at most per a tag, of two items or more.
func (db *DB) TopStories(ctx context.Context, since time.Time, per int) (map[string][]StorySummary, error) {
	rows, err := db.read.QueryContext(ctx, `
		WITH s AS (
			SELECT t.tag, coalesce(i.story_id, i.id) AS story, count(*) AS n
			FROM item_tags t JOIN items i ON i.id = t.item_id
			WHERE t.sort_time >= ?1 GROUP BY t.tag, story HAVING n > 1),
		ranked AS (
			SELECT tag, story, n, row_number() OVER (PARTITION BY tag ORDER BY n DESC, story DESC) AS r FROM s)
		SELECT r.tag, r.story, r.n, first.title, first.url FROM ranked r
		JOIN items first ON first.id = r.story
		WHERE r.r <= ?2 ORDER BY r.tag, r.r`, since.Unix(), per)
	if err != nil {
		return nil, fmt.Errorf("top stories: %w", err)
	}
	defer rows.Close()
	out := map[string][]StorySummary{}
	for rows.Next() {
		var (
			tag string
			s   StorySummary
		)
		if err := rows.Scan(&tag, &s.Story, &s.Items, &s.Title, &s.URL); err != nil {
			return nil, fmt.Errorf("top stories: %w", err)
		}
		out[tag] = append(out[tag], s)
	}
	return out, rows.Err()
}

// RetagBatch returns the items whose target lies in (after, after+n], and
// the last target id of the batch; last is 0 when there are none left.
func (db *DB) RetagBatch(ctx context.Context, after int64, n int) (rows []RetagRow, last int64, err error) {
	var maxID int64
	if err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM items`).Scan(&maxID); err != nil {
		return nil, 0, fmt.Errorf("retag: %w", err)
	}
	if after >= maxID {
		return nil, 0, nil
	}
	hi := after + int64(n)
	q, err := db.read.QueryContext(ctx, `
		SELECT i.id, coalesce(i.dup_of, i.id), f.url, i.title, i.summary, i.content, i.categories
		FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE (i.id > ?1 AND i.id <= ?2 AND i.dup_of IS NULL) OR (i.dup_of > ?1 AND i.dup_of <= ?2)
		ORDER BY 2, 1`, after, hi)
	if err != nil {
		return nil, 0, fmt.Errorf("retag: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var (
			r    RetagRow
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		changed := map[string]bool{}
		for id, want := range tags {
			var have sql.NullString
			var sortTime int64
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT group_concat(tag, ' ') FROM item_tags WHERE item_id = ?1), sort_time
				FROM items WHERE id = ?1`, id).Scan(&have, &sortTime); err != nil {
				if err == sql.ErrNoRows {
					continue // removed meanwhile
				}
				return err
			}
			old := strings.Fields(have.String)
			slices.Sort(old)
			want = slices.Compact(slices.Sorted(slices.Values(want)))
			if slices.Equal(old, want) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM item_tags WHERE item_id = ?`, id); err != nil {
				return err
			}
			for _, t := range want {
				if _, err := tx.ExecContext(ctx, `INSERT INTO item_tags (item_id, tag, sort_time) VALUES (?, ?, ?)`, id, t, sortTime); err != nil {
					return err
				}
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

// Meta returns a stored fact, "" when unset.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a fact.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// TagActivity counts the items of each tag per day, by publication time,
// over the days days before now: a slice per tag, oldest day first, the
// last ending at now.
func (db *DB) TagActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error) {
	return db.activity(ctx, `SELECT tag, sort_time FROM item_tags WHERE sort_time > ? AND sort_time <= ?`, now, days)
}

// FeedActivity is TagActivity for each feed, by its configured URL.
func (db *DB) FeedActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error) {
	return db.activity(ctx, `SELECT f.url, i.sort_time FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.sort_time > ? AND i.sort_time <= ?`, now, days)
}

// activity runs query, which selects a key and a time between its two
// arguments, and counts the rows per key and day.
func (db *DB) activity(ctx context.Context, query string, now time.Time, days int) (map[string][]int, error) {
	start, end := rows.ActivityWindow(now, days)
	r, err := db.read.QueryContext(ctx, query, start, end)
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	defer r.Close()
	return rows.Activity(r, start, days)
}
