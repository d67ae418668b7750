package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// storyRowSQL selects the StoryRow of the items i.
const storyRowSQL = `SELECT i.id, coalesce(i.story_id, i.id), i.title, i.url,
	coalesce(nullif(f.config_title, ''), nullif(f.title, ''), f.url), i.sort_time, i.first_seen
	FROM items i JOIN feeds f ON f.id = i.feed_id `

// StoryWindow returns the items first seen since since that are grouped,
// oldest first, with the stories they were given, to rebuild the grouper's
// window at start. Copies of an article another feed brought first are
// left out.
func (db *DB) StoryWindow(ctx context.Context, since time.Time) ([]feedmux.StoryRow, error) {
	return db.storyRows(ctx, "story window", storyRowSQL+`
		WHERE i.first_seen >= $1 AND i.dup_of IS NULL AND NOT i.ungrouped ORDER BY i.first_seen, i.id`, since.Unix())
}

// Ungrouped returns up to limit items that wait for story grouping, in
// the order they arrived. An item waits from when SaveItems stores it
// until SaveGrouping says it is grouped.
func (db *DB) Ungrouped(ctx context.Context, limit int) ([]feedmux.StoryRow, error) {
	return db.storyRows(ctx, "ungrouped items", storyRowSQL+`
		WHERE i.ungrouped ORDER BY i.first_seen, i.id LIMIT $1`, limit)
}

// UngroupedCount is the number of items waiting for story grouping.
func (db *DB) UngroupedCount(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM items WHERE ungrouped`).Scan(&n)
	return n, err
}

func (db *DB) storyRows(ctx context.Context, what, query string, args ...any) ([]feedmux.StoryRow, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []feedmux.StoryRow
	for rows.Next() {
		var (
			r                 feedmux.StoryRow
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

// SaveGrouping records a batch's grouping in one transaction: that the
// items are grouped, the story of each item, then the merges. It returns
// the tags of every member of the stories that changed.
func (db *DB) SaveGrouping(ctx context.Context, g feedmux.Grouping) ([]string, error) {
	var tags []string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if len(g.Grouped) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE items SET ungrouped = false WHERE id = ANY($1::bigint[]) AND ungrouped`,
				g.Grouped); err != nil {
				return err
			}
		}
		changed, err := setStories(ctx, tx, g.Stories)
		if err != nil {
			return err
		}
		for gone, keep := range g.Merged {
			// The story's first item names it with a NULL story_id.
			for _, q := range []string{`UPDATE items SET story_id = $1 WHERE story_id = $2`,
				`UPDATE items SET story_id = $1 WHERE id = $2 AND story_id IS NULL`,
				`INSERT INTO story_tags (story_id, tag) SELECT $1::bigint, tag FROM story_tags WHERE story_id = $2
					UNION SELECT $1::bigint, tag FROM item_tags WHERE item_id = $2 ON CONFLICT DO NOTHING`} {
				if _, err := tx.Exec(ctx, q, keep, gone); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM story_tags WHERE story_id = $1`, gone); err != nil {
				return err
			}
			changed = append(changed, keep)
		}
		tags, err = storyTags(ctx, tx, changed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save grouping: %w", err)
	}
	return tags, nil
}

// setStories records the story of each item (item id: story id) and
// returns the items and stories that changed.
func setStories(ctx context.Context, tx pgx.Tx, stories map[int64]int64) ([]int64, error) {
	var changed []int64
	for id, story := range stories {
		tag, err := tx.Exec(ctx, `UPDATE items SET story_id = $1 WHERE id = $2 AND story_id IS DISTINCT FROM $1`, story, id)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO story_tags (story_id, tag)
			SELECT $1::bigint, tag FROM item_tags WHERE item_id = $2 ON CONFLICT DO NOTHING`, story, id); err != nil {
			return nil, err
		}
		changed = append(changed, id, story)
	}
	return changed, nil
}

// storyTags returns the tags of the items ids and of every member of the
// stories ids: a story shows in the views of all of them. A story's
// members' tags are read from story_tags, not from each member.
func storyTags(ctx context.Context, tx pgx.Tx, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	tags, err := queryColumn[string](ctx, tx, `SELECT tag FROM item_tags WHERE item_id = ANY($1::bigint[])
		UNION SELECT tag FROM story_tags WHERE story_id = ANY($1::bigint[])`, ids)
	slices.Sort(tags)
	return slices.Compact(tags), err
}
