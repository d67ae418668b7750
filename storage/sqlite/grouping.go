package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// storyRowSQL selects the StoryRow of the items i.
const storyRowSQL = `SELECT i.id, coalesce(i.story_id, i.id), i.title, i.url,
	coalesce(nullif(f.config_title, ''), nullif(f.title, ''), f.url), i.sort_time, i.first_seen
	FROM items i JOIN feeds f ON f.id = i.feed_id `

// StoryWindow returns the items first seen since since that are grouped,
// oldest first, with the stories they were given, to rebuild the grouper's
// window at start. Copies of an article another feed brought first are
// left out.
func (db *DB) StoryWindow(ctx context.Context, since time.Time) ([]StoryRow, error) {
	return db.storyRows(ctx, "story window", storyRowSQL+`
		WHERE i.first_seen >= ? AND i.dup_of IS NULL AND i.ungrouped = 0 ORDER BY i.first_seen, i.id`, since.Unix())
}

// Ungrouped returns up to limit items that wait for story grouping, in
// the order they arrived. An item waits from when SaveItems stores it
// until SaveGrouping says it is grouped.
func (db *DB) Ungrouped(ctx context.Context, limit int) ([]StoryRow, error) {
	return db.storyRows(ctx, "ungrouped items", storyRowSQL+`
		WHERE i.ungrouped = 1 ORDER BY i.first_seen, i.id LIMIT ?`, limit)
}

// UngroupedCount is the number of items waiting for story grouping.
func (db *DB) UngroupedCount(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE ungrouped = 1`).Scan(&n)
	return n, err
}

func (db *DB) storyRows(ctx context.Context, what, query string, args ...any) ([]StoryRow, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []StoryRow
	for rows.Next() {
		var (
			r                 StoryRow
			sortTime, firstAt int64
		)
		if err := rows.Scan(&r.ID, &r.Story, &r.Title, &r.URL, &r.Source, &sortTime, &firstAt); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		r.Time, r.FirstSeen = time.Unix(sortTime, 0).UTC(), time.Unix(firstAt, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// The statements of SaveGrouping.
const (
	markGroupedSQL = `UPDATE items SET ungrouped = 0 WHERE id = ? AND ungrouped = 1`
	setStorySQL    = `UPDATE items SET story_id = ?1 WHERE id = ?2 AND story_id IS NOT ?1`
	joinStorySQL   = `INSERT OR IGNORE INTO story_tags (story_id, tag)
		SELECT ?1, tag FROM item_tags WHERE item_id = ?2`
	// A merge of story ?2 into ?1. The story's first item names it with
	// a NULL story_id.
	mergeStorySQL     = `UPDATE items SET story_id = ?1 WHERE story_id = ?2`
	mergeFirstSQL     = `UPDATE items SET story_id = ?1 WHERE id = ?2 AND story_id IS NULL`
	mergeStoryTagsSQL = `INSERT OR IGNORE INTO story_tags (story_id, tag) SELECT ?1, tag FROM story_tags WHERE story_id = ?2
		UNION SELECT ?1, tag FROM item_tags WHERE item_id = ?2`
	dropStoryTagsSQL = `DELETE FROM story_tags WHERE story_id = ?2`
	// storyTagsSQL selects the tags of the items in the JSON array ?1 and
	// of the members of the stories in it.
	storyTagsSQL = `SELECT tag FROM item_tags WHERE item_id IN (SELECT value FROM json_each(?1))
		UNION SELECT tag FROM story_tags WHERE story_id IN (SELECT value FROM json_each(?1))`
)

// SaveGrouping records a batch's grouping in one transaction: that the
// items are grouped, the story of each item, then the merges. It returns
// the tags of every member of the stories that changed.
func (db *DB) SaveGrouping(ctx context.Context, g Grouping) ([]string, error) {
	var tags []string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		grouped, err := db.stmt(ctx, tx, markGroupedSQL)
		if err != nil {
			return err
		}
		for _, id := range g.Grouped {
			if _, err := grouped.ExecContext(ctx, id); err != nil {
				return err
			}
		}
		changed, err := db.setStories(ctx, tx, g.Stories)
		if err != nil {
			return err
		}
		for gone, keep := range g.Merged {
			for _, q := range []string{mergeStorySQL, mergeFirstSQL, mergeStoryTagsSQL, dropStoryTagsSQL} {
				st, err := db.stmt(ctx, tx, q)
				if err != nil {
					return err
				}
				if _, err := st.ExecContext(ctx, keep, gone); err != nil {
					return err
				}
			}
			changed = append(changed, keep)
		}
		tags, err = db.storyTags(ctx, tx, changed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save grouping: %w", err)
	}
	return tags, nil
}

// setStories records the story of each item (item id: story id) and
// returns the items and stories that changed.
func (db *DB) setStories(ctx context.Context, tx *sql.Tx, stories map[int64]int64) ([]int64, error) {
	set, err := db.stmt(ctx, tx, setStorySQL)
	if err != nil {
		return nil, err
	}
	join, err := db.stmt(ctx, tx, joinStorySQL)
	if err != nil {
		return nil, err
	}
	var changed []int64
	for id, story := range stories {
		res, err := set.ExecContext(ctx, story, id)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if _, err := join.ExecContext(ctx, story, id); err != nil {
			return nil, err
		}
		changed = append(changed, id, story)
	}
	return changed, nil
}

// storyTags returns the tags of the items ids and of every member of the
// stories ids: a story shows in the views of all of them. A story's
// members' tags are read from story_tags, not from each member.
func (db *DB) storyTags(ctx context.Context, tx *sql.Tx, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	st, err := db.stmt(ctx, tx, storyTagsSQL)
	if err != nil {
		return nil, err
	}
	tags, err := scanColumn[string](st.QueryContext(ctx, string(list)))
	slices.Sort(tags)
	return slices.Compact(tags), err
}
