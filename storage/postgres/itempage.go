package postgres

import (
	"cmp"
	"context"
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
	(SELECT string_agg(tag, ' ') FROM item_tags WHERE item_id = i.id),
	coalesce((SELECT json_agg(json_build_object('url', c.url, 'feed', cf.url, 'site', cf.site_url, 'origin', c.origin_title,
		'title', coalesce(nullif(cf.config_title, ''), nullif(cf.title, ''), cf.url)) ORDER BY c.id)
		FROM items c JOIN feeds cf ON cf.id = c.feed_id WHERE c.dup_of = i.id)::text, '[]'),
	coalesce(i.story_id, i.id), i.origin_title, i.origin_url, i.article`

// params collects a query's arguments and names their placeholders.
type params []any

// add appends v and returns its placeholder, $n.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// Items returns the newest items that match filter; see ItemPage.
func (db *DB) Items(ctx context.Context, filter feedmux.ItemFilter) ([]feedmux.Item, error) {
	page, err := db.ItemPage(ctx, filter)
	return page.Items, err
}

// ItemPage returns the newest items that match filter, newest first (by
// publication time, else update time, else first seen), each once however
// many of the filter's tags it carries. It returns feedmux.ErrUnknownTag
// when the filter names a tag that no item and no configured feed carries.
func (db *DB) ItemPage(ctx context.Context, filter feedmux.ItemFilter) (feedmux.ItemPage, error) {
	limit := filter.Limit
	if limit <= 0 {
		limit = 50
	}
	before := filter.Before
	if before.IsZero() {
		before = feedmux.Cursor{Time: math.MaxInt64, ID: math.MaxInt64}
	}
	query, args := itemPageQuery(filter, before, limit)
	rows, cursors, err := db.queryItems(ctx, query, args...)
	if err != nil {
		if filter.Search != nil {
			return feedmux.ItemPage{}, fmt.Errorf("search %q: %w", filter.Search.Normal, err)
		}
		return feedmux.ItemPage{}, fmt.Errorf("items %q: %w", filter.Tags, err)
	}
	page := feedmux.ItemPage{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		page.Next = cursors[limit-1]
	}
	if err := db.checkTags(ctx, filter.Tags, rows); err != nil {
		return feedmux.ItemPage{}, err
	}
	return page, nil
}

// itemPageQuery builds the query of ItemPage; it asks for limit+1 rows so
// that the caller knows whether there is a next page. Of a tag, it reads
// the newest rows of the tag index, one range scan per tag, merged.
func itemPageQuery(f feedmux.ItemFilter, before feedmux.Cursor, limit int) (string, []any) {
	var p params
	t, id, lim := p.add(before.Time), p.add(before.ID), p.add(limit+1)
	var tags []string
	for _, tag := range f.Tags {
		tags = append(tags, p.add(tag))
	}
	// cond is the conditions on the item {item} beside its tags.
	var conds []string
	if len(f.Exclude) > 0 {
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM item_tags x WHERE x.item_id = {item} AND x.tag = ANY(`+
			p.add(f.Exclude)+`::text[]))`)
	}
	if f.Search != nil {
		conds = append(conds, `EXISTS (SELECT 1 FROM item_search s WHERE s.item_id = {item} AND s.doc @@ `+
			tsquery(&p, f.Search)+`)`)
	}
	cond := func(itemID string) string {
		var b strings.Builder
		for _, c := range conds {
			b.WriteString(" AND " + strings.ReplaceAll(c, "{item}", itemID))
		}
		return b.String()
	}
	if len(tags) == 0 {
		return `SELECT ` + itemColumns + ` FROM items i JOIN feeds f ON f.id = i.feed_id
			WHERE (i.sort_time, i.id) < (` + t + `, ` + id + `) AND i.dup_of IS NULL` + cond("i.id") + `
			ORDER BY i.sort_time DESC, i.id DESC LIMIT ` + lim, p
	}
	parts := make([]string, len(tags))
	for i, tag := range tags {
		parts[i] = `(SELECT item_id, sort_time FROM item_tags t
			WHERE t.tag = ` + tag + ` AND (t.sort_time, t.item_id) < (` + t + `, ` + id + `)` + cond("t.item_id") + `
			ORDER BY t.sort_time DESC, t.item_id DESC LIMIT ` + lim + `)`
	}
	return `SELECT ` + itemColumns + ` FROM (` + strings.Join(parts, " UNION ") + `) t
		JOIN items i ON i.id = t.item_id JOIN feeds f ON f.id = i.feed_id
		ORDER BY t.sort_time DESC, t.item_id DESC LIMIT ` + lim, p
}

// queryItems runs a query of itemColumns and returns its items with their
// cursors.
func (db *DB) queryItems(ctx context.Context, query string, args ...any) ([]feedmux.Item, []feedmux.Cursor, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		items   []feedmux.Item
		cursors []feedmux.Cursor
	)
	for rows.Next() {
		var (
			it                 feedmux.Item
			cats, encs         string
			published, updated *int64
			firstSeen          int64
			tags               *string
			also, article      string
			c                  feedmux.Cursor
		)
		if err := rows.Scan(&c.ID, &c.Time, &it.Key, &it.GUID, &it.URL, &it.Title, &it.Summary, &it.Content,
			&it.Author, &it.Email, &cats, &encs, &published, &updated, &firstSeen,
			&it.Source.URL, &it.Source.Title, &it.Source.SiteURL, &tags, &also, &c.Story,
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
		if tags != nil {
			it.Tags = strings.Fields(*tags)
			slices.Sort(it.Tags)
		}
		if err := decodeAlso(&it, also); err != nil {
			return nil, nil, err
		}
		items = append(items, it)
		cursors = append(cursors, c)
	}
	return items, cursors, rows.Err()
}

// decodeAlso reads the other sources of an item.
func decodeAlso(it *feedmux.Item, also string) error {
	if also == "[]" {
		return nil
	}
	var as []struct{ URL, Feed, Site, Title, Origin string }
	if err := json.Unmarshal([]byte(also), &as); err != nil {
		return fmt.Errorf("item %q sources: %w", it.Key, err)
	}
	for _, a := range as {
		it.Also = append(it.Also, feedmux.Also{URL: a.URL, Source: feedmux.Source{URL: a.Feed, Title: a.Title, SiteURL: a.Site},
			Origin: feedmux.Source{Title: a.Origin}})
	}
	return nil
}

// checkTags returns feedmux.ErrUnknownTag for the first of tags that no
// item and no configured feed carries, unless an item of items shows it.
func (db *DB) checkTags(ctx context.Context, tags []string, items []feedmux.Item) error {
	for _, tag := range tags {
		if slices.ContainsFunc(items, func(it feedmux.Item) bool { return slices.Contains(it.Tags, tag) }) {
			continue
		}
		var known bool
		err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM item_tags WHERE tag = $1)
			OR EXISTS (SELECT 1 FROM feeds WHERE active AND tags ? $1)`, tag).Scan(&known)
		if err != nil {
			return fmt.Errorf("items %q: %w", tags, err)
		}
		if !known {
			return fmt.Errorf("tag %q: %w", tag, feedmux.ErrUnknownTag)
		}
	}
	return nil
}

// Tags returns every tag that an item or a configured feed carries, with its
// item count and newest item time, sorted by tag.
func (db *DB) Tags(ctx context.Context) ([]feedmux.TagCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT * FROM (
			SELECT tag, count(*), max(sort_time) FROM item_tags GROUP BY tag
			UNION ALL
			SELECT DISTINCT j.tag, 0, 0 FROM feeds, jsonb_array_elements_text(feeds.tags) j (tag)
			WHERE feeds.active AND NOT EXISTS (SELECT 1 FROM item_tags WHERE tag = j.tag)) u
		ORDER BY tag COLLATE "C"`)
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
