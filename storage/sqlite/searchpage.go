package sqlite

import (
	"context"
	"strconv"
	"strings"
)

// A search's page is read in one of three ways, chosen by how many items
// match, because ORDER BY sort_time is not the index's order and no one way
// is quick for both rare and common words:
//
//   - up to searchFew matches: look each up and sort them (searchFewQuery).
//     Walking the newest items instead would read every item to fill a
//     page of a rare word.
//   - up to half the items: walk the newest items (of the tags) and keep
//     those in the set of matches, which SQLite builds once per query: its
//     cost grows with the matches, but is bounded by them and the walk.
//   - more: walk the newest items and ask the index about each. That costs
//     more per item, but a page needs only about twice its length of them,
//     where building the set of most items costs tens of ms. Its worst
//     case is a word in most items but in none of the newest, which would
//     be asked about every item; a word in half of everything is not.
//
// Measured over 100,000 items: BENCHMARKS.md ("Search").
const searchFew = 2000

// walkSearch is how itemPageQuery keeps the items that match a search as
// it walks the newest items: with the set of every match, or by asking the
// index about each item (probe). match empty: no search.
type walkSearch struct {
	match string
	probe bool
}

// searchPageQuery builds ItemPage's query for a filter with Search.
func (db *DB) searchPageQuery(ctx context.Context, f ItemFilter, before Cursor, limit int) (string, []any, error) {
	// The span of ids bounds the number of items from above (retention
	// leaves gaps) at the cost of two lookups, where count(*) would read
	// every item. (One SELECT of both max and min would scan the table.)
	var span int64
	err := db.read.QueryRowContext(ctx, `SELECT coalesce((SELECT max(id) FROM items) - (SELECT min(id) FROM items) + 1, 0)`).Scan(&span)
	if err != nil {
		return "", nil, err
	}
	half := max(span/2, searchFew)
	match := fts5Match(f.Search)
	var n int64
	err = db.read.QueryRowContext(ctx, `SELECT count(*) FROM
		(SELECT rowid FROM items_search WHERE items_search MATCH ? LIMIT ?)`, match, half+1).Scan(&n)
	if err != nil {
		return "", nil, err
	}
	if n <= searchFew {
		q, args := searchFewQuery(f.Tags, f.Exclude, before, limit, match)
		return q, args, nil
	}
	q, args := itemPageQuery(f.Tags, f.Exclude, before, limit, walkSearch{match: match, probe: n > half})
	return q, args, nil
}

// searchFewQuery looks up every match of search, keeps those on the page
// and sorts them; only the page's items are then read in full.
func searchFewQuery(tags, excluded []string, before Cursor, limit int, search string) (string, []any) {
	// Arguments by number: ?1 ?2 the cursor, ?3 the limit, ?4 the search,
	// then the tags, then the excluded tags.
	args := []any{before.Time, before.ID, limit + 1, search}
	in := func(list []string) string {
		nums := make([]string, len(list))
		for i, tag := range list {
			args = append(args, tag)
			nums[i] = "?" + strconv.Itoa(len(args))
		}
		return strings.Join(nums, ", ")
	}
	where := ""
	if len(tags) > 0 {
		where += ` AND EXISTS (SELECT 1 FROM item_tags g WHERE g.item_id = i.id AND g.tag IN (` + in(tags) + `))`
	}
	if len(excluded) > 0 {
		where += ` AND NOT EXISTS (SELECT 1 FROM item_tags x WHERE x.item_id = i.id AND x.tag IN (` + in(excluded) + `))`
	}
	// CROSS JOIN keeps the index first: every match once, by rowid.
	query := `SELECT ` + itemColumns + ` FROM (SELECT i.id AS item_id, i.sort_time
			FROM items_search CROSS JOIN items i ON i.id = items_search.rowid
			WHERE items_search MATCH ?4 AND (i.sort_time, i.id) < (?1, ?2) AND i.dup_of IS NULL` + where + `
			ORDER BY i.sort_time DESC, i.id DESC LIMIT ?3) t
		JOIN items i ON i.id = t.item_id JOIN feeds f ON f.id = i.feed_id
		ORDER BY t.sort_time DESC, t.item_id DESC`
	return query, args
}
