package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// StoryPage returns the stories that have an item matching filter (its
// Tags and Exclude), newest activity first, each with all its members.
func (db *DB) StoryPage(ctx context.Context, filter feedmux.ItemFilter) (feedmux.StoryPage, error) {
	limit := filter.Limit
	if limit <= 0 {
		limit = 50
	}
	before := filter.Before
	if before.IsZero() {
		before = feedmux.Cursor{Time: math.MaxInt64, ID: math.MaxInt64}
	}
	var p params
	t, id, lim := p.add(before.Time), p.add(before.ID), p.add(limit+1)
	where := `i.dup_of IS NULL`
	if len(filter.Tags) > 0 {
		where = `i.id IN (SELECT item_id FROM item_tags WHERE tag = ANY(` + p.add(filter.Tags) + `::text[]))`
	}
	if len(filter.Exclude) > 0 {
		where += ` AND NOT EXISTS (SELECT 1 FROM item_tags x WHERE x.item_id = i.id AND x.tag = ANY(` +
			p.add(filter.Exclude) + `::text[]))`
	}
	rows, err := db.pool.Query(ctx, `
		SELECT story, activity FROM (
			SELECT coalesce(i.story_id, i.id) AS story, max(i.sort_time) AS activity
			FROM items i WHERE `+where+` GROUP BY 1) s
		WHERE (activity, story) < (`+t+`, `+id+`) ORDER BY activity DESC, story DESC LIMIT `+lim, p...)
	if err != nil {
		return feedmux.StoryPage{}, fmt.Errorf("stories: %w", err)
	}
	var page feedmux.StoryPage
	var ids []int64
	index := map[int64]int{}
	for rows.Next() {
		var s feedmux.Story
		var activity int64
		if err := rows.Scan(&s.ID, &activity); err != nil {
			rows.Close()
			return feedmux.StoryPage{}, fmt.Errorf("stories: %w", err)
		}
		s.Activity = time.Unix(activity, 0).UTC()
		index[s.ID] = len(page.Stories)
		page.Stories = append(page.Stories, s)
		ids = append(ids, s.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return feedmux.StoryPage{}, fmt.Errorf("stories: %w", err)
	}
	if len(page.Stories) > limit {
		last := page.Stories[limit-1]
		page.Next = feedmux.Cursor{Time: last.Activity.Unix(), ID: last.ID}
		page.Stories = page.Stories[:limit]
		ids = ids[:limit]
	}
	if len(ids) == 0 {
		if err := db.checkTags(ctx, filter.Tags, nil); err != nil {
			return feedmux.StoryPage{}, err
		}
		return page, nil
	}
	if err := db.storyMembers(ctx, &page, ids, index); err != nil {
		return feedmux.StoryPage{}, err
	}
	return page, nil
}

// storyMembers reads the members of the page's stories ids (at index in
// page.Stories), oldest first.
func (db *DB) storyMembers(ctx context.Context, page *feedmux.StoryPage, ids []int64, index map[int64]int) error {
	members, cursors, err := db.queryItems(ctx, `SELECT `+itemColumns+` FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.dup_of IS NULL AND (i.story_id = ANY($1::bigint[]) OR (i.story_id IS NULL AND i.id = ANY($1::bigint[])))
		ORDER BY i.sort_time, i.id`, ids)
	if err != nil {
		return fmt.Errorf("story members: %w", err)
	}
	for k, it := range members {
		if i, ok := index[cursors[k].Story]; ok {
			page.Stories[i].Items = append(page.Stories[i].Items, it)
		}
	}
	return nil
}

// TopStories returns, for each tag, its largest stories (by members)
// among the items since since: at most per a tag, of two items or more.
func (db *DB) TopStories(ctx context.Context, since time.Time, per int) (map[string][]feedmux.StorySummary, error) {
	rows, err := db.pool.Query(ctx, `
		WITH s AS (
			SELECT t.tag, coalesce(i.story_id, i.id) AS story, count(*) AS n
			FROM item_tags t JOIN items i ON i.id = t.item_id
			WHERE t.sort_time >= $1 GROUP BY t.tag, 2 HAVING count(*) > 1),
		ranked AS (
			SELECT tag, story, n, row_number() OVER (PARTITION BY tag ORDER BY n DESC, story DESC) AS r FROM s)
		SELECT r.tag, r.story, r.n, first.title, first.url FROM ranked r
		JOIN items first ON first.id = r.story
		WHERE r.r <= $2 ORDER BY r.tag, r.r`, since.Unix(), per)
	if err != nil {
		return nil, fmt.Errorf("top stories: %w", err)
	}
	defer rows.Close()
	out := map[string][]feedmux.StorySummary{}
	for rows.Next() {
		var (
			tag string
			s   feedmux.StorySummary
		)
		if err := rows.Scan(&tag, &s.Story, &s.Items, &s.Title, &s.URL); err != nil {
			return nil, fmt.Errorf("top stories: %w", err)
		}
		out[tag] = append(out[tag], s)
	}
	return out, rows.Err()
}

// TagActivity counts the items of each tag per day, by publication time,
// over the days days before now: a slice per tag, oldest day first, the
// last ending at now.
func (db *DB) TagActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error) {
	return db.activity(ctx, `SELECT tag, sort_time FROM item_tags WHERE sort_time > $1 AND sort_time <= $2`, now, days)
}

// FeedActivity is TagActivity for each feed, by its configured URL.
func (db *DB) FeedActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error) {
	return db.activity(ctx, `SELECT f.url, i.sort_time FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.sort_time > $1 AND i.sort_time <= $2`, now, days)
}

// activity runs query, which selects a key and a time between its two
// arguments, and counts the rows per key and day.
func (db *DB) activity(ctx context.Context, query string, now time.Time, days int) (map[string][]int, error) {
	start, end := rows.ActivityWindow(now, days)
	r, err := db.pool.Query(ctx, query, start, end)
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	defer r.Close()
	return rows.Activity(r, start, days)
}
