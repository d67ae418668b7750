package sqlite

import (
	"cmp"
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
	storerows "github.com/feedmux/feedmux/storage/rows"
)

const itemColumns = `i.id, i.sort_time, i.key, i.guid, i.url, i.title, i.summary, i.content, i.author, i.email,
	i.categories, i.enclosures, i.published, i.updated, i.first_seen,
	f.url, coalesce(nullif(f.config_title, ''), nullif(f.title, ''), f.url), f.site_url,
	(SELECT group_concat(tag, ' ') FROM item_tags WHERE item_id = i.id),
	(SELECT json_group_array(json_object('url', c.url, 'feed', cf.url, 'site', cf.site_url, 'origin', c.origin_title,
		'title', coalesce(nullif(cf.config_title, ''), nullif(cf.title, ''), cf.url)))
		FROM items c JOIN feeds cf ON cf.id = c.feed_id WHERE c.dup_of = i.id),
	coalesce(i.story_id, i.id), i.origin_title, i.origin_url, i.article`

// Items returns the newest items that match filter; see ItemPage.
func (db *DB) Items(ctx context.Context, filter ItemFilter) ([]feedmux.Item, error) {
	page, err := db.ItemPage(ctx, filter)
	return page.Items, err
}

// ItemPage returns the newest items that match filter, newest first (by
// publication time, else update time, else first seen), each once however
// many of the filter's tags it carries. It returns feedmux.ErrUnknownTag
// when the filter names a tag that no item and no configured feed carries.
func (db *DB) ItemPage(ctx context.Context, filter ItemFilter) (ItemPage, error) {
	limit := filter.Limit
	if limit <= 0 {
		limit = 50
	}
	before := filter.Before
	if before.IsZero() {
		before = Cursor{Time: math.MaxInt64, ID: math.MaxInt64}
	}
	query, args := itemPageQuery(filter.Tags, filter.Exclude, before, limit, walkSearch{})
	if filter.Search != nil {
		var err error
		if query, args, err = db.searchPageQuery(ctx, filter, before, limit); err != nil {
			return ItemPage{}, fmt.Errorf("search %q: %w", filter.Search.Normal, err)
		}
	}
	rows, cursors, err := db.queryItems(ctx, query, args...)
	if err != nil {
		return ItemPage{}, fmt.Errorf("items %q: %w", filter.Tags, err)
	}
	page := ItemPage{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		page.Next = cursors[limit-1]
	}
	if err := db.checkTags(ctx, filter.Tags, rows); err != nil {
		return ItemPage{}, err
	}
	return page, nil
}

// itemPageQuery builds the query of ItemPage; it asks for limit+1 rows so
// that the caller knows whether there is a next page. With a search, it
// walks the newest items as without and keeps those that match, which is
// quick when many do (see searchPageQuery).
func itemPageQuery(tags, excluded []string, before Cursor, limit int, search walkSearch) (string, []any) {
	// Arguments by number: ?1 ?2 the cursor, ?3 the limit, then the tags,
	// then the excluded tags, then the search.
	args := []any{before.Time, before.ID, limit + 1}
	for _, tag := range tags {
		args = append(args, tag)
	}
	exclude := func(string) string { return "" }
	if len(excluded) > 0 {
		nums := make([]string, len(excluded))
		for i, tag := range excluded {
			args = append(args, tag)
			nums[i] = "?" + strconv.Itoa(len(args))
		}
		exclude = func(itemID string) string {
			return `AND NOT EXISTS (SELECT 1 FROM item_tags x WHERE x.item_id = ` + itemID +
				` AND x.tag IN (` + strings.Join(nums, ", ") + `))`
		}
	}
	itemsIndex := ""
	if search.match != "" {
		args = append(args, search.match)
		match := "?" + strconv.Itoa(len(args))
		excludeTags := exclude
		exclude = func(itemID string) string {
			if search.probe {
				return excludeTags(itemID) + ` AND EXISTS (SELECT 1 FROM items_search
					WHERE items_search MATCH ` + match + ` AND rowid = ` + itemID + `)`
			}
			return excludeTags(itemID) + ` AND ` + itemID + ` IN (SELECT rowid FROM items_search WHERE items_search MATCH ` + match + `)`
		}
		// Else SQLite may look up every match by rowid and sort them.
		itemsIndex = "INDEXED BY items_by_time"
	}
	var query string
	if len(tags) == 0 {
		query = `SELECT ` + itemColumns + ` FROM items i ` + itemsIndex + ` JOIN feeds f ON f.id = i.feed_id
			WHERE (i.sort_time, i.id) < (?1, ?2) AND i.dup_of IS NULL ` + exclude("i.id") + `
			ORDER BY i.sort_time DESC, i.id DESC LIMIT ?3`
	} else {
		// One range scan of the tag index per tag, merged.
		parts := make([]string, len(tags))
		for i := range tags {
			parts[i] = `SELECT * FROM (SELECT item_id, sort_time FROM item_tags t
				WHERE t.tag = ?` + strconv.Itoa(4+i) + ` AND (t.sort_time, t.item_id) < (?1, ?2) ` +
				exclude("t.item_id") + `
				ORDER BY t.sort_time DESC, t.item_id DESC LIMIT ?3)`
		}
		query = `SELECT ` + itemColumns + ` FROM (` + strings.Join(parts, " UNION ") + `) t
			JOIN items i ON i.id = t.item_id JOIN feeds f ON f.id = i.feed_id
			ORDER BY t.sort_time DESC, t.item_id DESC LIMIT ?3`
	}
	return query, args
}

func (db *DB) queryItems(ctx context.Context, query string, args ...any) ([]feedmux.Item, []Cursor, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		items   []feedmux.Item
		cursors []Cursor
	)
	for rows.Next() {
		var (
			it                 feedmux.Item
			cats, encs         string
			published, updated sql.NullInt64
			firstSeen          int64
			tags               sql.NullString
			also               string
			story              int64
			article            string
			c                  Cursor
		)
		if err := rows.Scan(&c.ID, &c.Time, &it.Key, &it.GUID, &it.URL, &it.Title, &it.Summary, &it.Content,
			&it.Author, &it.Email, &cats, &encs, &published, &updated, &firstSeen,
			&it.Source.URL, &it.Source.Title, &it.Source.SiteURL, &tags, &also, &story,
			&it.Origin.Title, &it.Origin.SiteURL, &article); err != nil {
			return nil, nil, err
		}
		if err := storerows.DecodeItemJSON(&it, cats, encs); err != nil {
			return nil, nil, err
		}
		if article != "" {
			// The article its page gave is the content; the feed's own
			// text, when it had no summary, is the summary.
			it.Summary, it.Content = cmp.Or(it.Summary, it.Content), article
		}
		it.Published, it.Updated = fromNullUnix(published), fromNullUnix(updated)
		it.FirstSeen = time.Unix(firstSeen, 0).UTC()
		if tags.Valid {
			it.Tags = strings.Fields(tags.String)
			slices.Sort(it.Tags)
		}
		if also != "[]" {
			var as []struct{ URL, Feed, Site, Title, Origin string }
			if err := json.Unmarshal([]byte(also), &as); err != nil {
				return nil, nil, fmt.Errorf("item %q sources: %w", it.Key, err)
			}
			for _, a := range as {
				it.Also = append(it.Also, feedmux.Also{URL: a.URL, Source: feedmux.Source{URL: a.Feed, Title: a.Title, SiteURL: a.Site},
					Origin: feedmux.Source{Title: a.Origin}})
			}
		}
		c.Story = story
		items = append(items, it)
		cursors = append(cursors, c)
	}
	return items, cursors, rows.Err()
}

func (db *DB) tagKnown(ctx context.Context, tag string) (bool, error) {
	var known bool
	err := db.read.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM item_tags WHERE tag = ?1)
		OR EXISTS (SELECT 1 FROM feeds, json_each(feeds.tags) j WHERE feeds.active AND j.value = ?1)`,
		tag).Scan(&known)
	return known, err
}

// Tags returns every tag that an item or a configured feed carries, with its
// item count and newest item time, sorted by tag.
func (db *DB) Tags(ctx context.Context) ([]feedmux.TagCount, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT tag, count(*), max(sort_time) FROM item_tags GROUP BY tag
		UNION ALL
		SELECT DISTINCT j.value, 0, 0 FROM feeds, json_each(feeds.tags) j
		WHERE feeds.active AND NOT EXISTS (SELECT 1 FROM item_tags WHERE tag = j.value)
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	return storerows.Collect(rows, "tags", func(r storerows.Rows) (feedmux.TagCount, error) {
		var (
			tc      feedmux.TagCount
			updated int64
		)
		err := r.Scan(&tc.Tag, &tc.Items, &updated)
		tc.Updated = fromUnix(updated)
		return tc, err
	})
}
