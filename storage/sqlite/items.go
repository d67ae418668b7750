package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
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
		// Before afterInsert, whose trimming may delete some of them.
		if err := indexItems(ctx, tx, sv.search); err != nil {
			return fmt.Errorf("index: %w", err)
		}
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

// saver writes the items of one poll of a feed, in its transaction.
type saver struct {
	ctx       context.Context
	tx        *sql.Tx
	feedID    int64
	now       time.Time
	wantPages bool // the feed has full_content: its new items' pages are fetched
	anyBuried bool // the feed has tombstones: each item is checked against them

	pollFacts, upsert, delTags, addTags, buried, sortTimeOf *sql.Stmt
	copies                                                  *copies
	changed                                                 map[string]bool // the tags whose items changed
	search                                                  []searchRow     // the text of the items written, for the index
}

func (db *DB) newSaver(ctx context.Context, tx *sql.Tx, feedID int64, now time.Time) (*saver, error) {
	sv := &saver{ctx: ctx, tx: tx, feedID: feedID, now: now, changed: map[string]bool{}, copies: &copies{}}
	if err := db.prepareIn(ctx, tx, append(sv.statements(), sv.copies.statements()...)); err != nil {
		return nil, err
	}
	err := sv.pollFacts.QueryRowContext(ctx, feedID).Scan(&sv.wantPages, &sv.anyBuried, &sv.copies.anyAggregated)
	if err != nil {
		return nil, err
	}
	return sv, nil
}

// pollFactsSQL reads what the saver needs to know once per poll of feed
// ?1: whether it has full_content, whether it has tombstones, and whether
// any feed brought an aggregator's item (else a publisher's item has none
// to take the place of).
const pollFactsSQL = `SELECT
	coalesce((SELECT CASE WHEN json_valid(config) THEN coalesce(json_extract(config, '$.FullContent'), 0) ELSE 0 END
		FROM feeds WHERE id = ?1), 0),
	EXISTS (SELECT 1 FROM tombstones WHERE feed_id = ?1),
	EXISTS (SELECT 1 FROM items INDEXED BY items_aggregated WHERE origin_url <> '')`

// statements are the saver's own statements and their SQL.
func (sv *saver) statements() []stmtSpec {
	return []stmtSpec{
		{&sv.pollFacts, pollFactsSQL},
		{&sv.upsert, upsertItemSQL},
		{&sv.delTags, `DELETE FROM item_tags WHERE item_id = ? RETURNING tag`},
		// An item's tags in one statement: a JSON array of them.
		{&sv.addTags, `INSERT OR IGNORE INTO item_tags (item_id, tag, sort_time) SELECT ?1, value, ?2 FROM json_each(?3)`},
		{&sv.sortTimeOf, `SELECT sort_time FROM items WHERE id = ?`},
		{&sv.buried, `SELECT EXISTS (SELECT 1 FROM tombstones WHERE feed_id = ? AND key = ?)`},
	}
}

// save writes one item with its row: skipped when retention removed it or
// it did not change; inserted and placed among the copies of its article;
// or updated with its tags.
func (sv *saver) save(it *feedmux.Item, row *itemRow, res *SaveResult) error {
	ctx := sv.ctx
	if sv.anyBuried {
		var gone bool
		if err := sv.buried.QueryRowContext(ctx, sv.feedID, it.Key).Scan(&gone); err != nil {
			return err
		}
		if gone {
			return nil // removed by retention: the source still lists it
		}
	}
	firstSeen := cmp.Or(it.FirstSeen, sv.now)
	canonical, key := row.canonical, row.key
	var (
		id, version, sortTime int64
		dupOf                 sql.NullInt64
		article               string
	)
	err := sv.upsert.QueryRowContext(ctx,
		sv.feedID, it.Key, it.GUID, it.URL, it.Title, it.Summary, it.Content, it.Author, it.Email,
		row.cats, row.encs, nullUnix(it.Published), nullUnix(it.Updated),
		firstSeen.Unix(), row.hash, canonical,
		it.Origin.Title, it.Origin.SiteURL, key, sv.wantPages,
	).Scan(&id, &version, &sortTime, &dupOf, &article)
	switch {
	case err == sql.ErrNoRows:
		return nil // unchanged
	case err != nil:
		return fmt.Errorf("save item %q: %w", it.Key, err)
	}
	indexed := searchRow{id: id, title: it.Title, summary: it.Summary, content: it.Content, article: article, body: row.body}
	if article != "" {
		indexed.body = "" // the stored page's article is part of it
	}
	sv.search = append(sv.search, indexed)
	switch {
	case version == 1:
		res.Inserted++
		pl, err := sv.copies.place(ctx, it, id, sv.feedID, sortTime, canonical, key)
		if err != nil {
			return err
		}
		if pl.first != 0 {
			dupOf = sql.NullInt64{Int64: pl.first, Valid: true}
		}
		if err := sv.tag(id, sortTime, pl.tags); err != nil {
			return err
		}
		if !dupOf.Valid && !pl.adopted {
			res.New = append(res.New, NewItem{ID: id, Key: it.Key})
		}
	default:
		res.Updated++
		if !dupOf.Valid {
			if err := collectTags(ctx, sv.delTags, id, sv.changed); err != nil {
				return err
			}
		}
	}
	if dupOf.Valid {
		// A copy's tags go to the first, which keeps its own too.
		id = dupOf.Int64
		if err := sv.sortTimeOf.QueryRowContext(ctx, id).Scan(&sortTime); err != nil {
			return err
		}
	}
	if err := sv.tag(id, sortTime, it.Tags); err != nil {
		return fmt.Errorf("tag item %q: %w", it.Key, err)
	}
	return nil
}

// tag gives the item id the tags.
func (sv *saver) tag(id, sortTime int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	list, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	if _, err := sv.addTags.ExecContext(sv.ctx, id, sortTime, string(list)); err != nil {
		return err
	}
	for _, tag := range tags {
		sv.changed[tag] = true
	}
	return nil
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

// upsertItemSQL inserts an item or, when its hash changed, updates it. It
// returns a row only when it wrote one; version 1 means inserted.
var upsertItemSQL = `
	INSERT INTO items (feed_id, key, guid, url, title, summary, content, author, email,
		categories, enclosures, published, updated, first_seen, sort_time, hash, canonical_url,
		origin_title, origin_url, copy_key, ungrouped, page_state)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, coalesce(?12, ?13, ?14), ?15, ?16,
		?17, ?18, ?19, 1, CASE WHEN ?20 THEN 1 ELSE 0 END)
	ON CONFLICT (feed_id, key) DO UPDATE SET
		guid = excluded.guid, url = excluded.url, title = excluded.title,
		summary = excluded.summary, content = excluded.content,
		author = excluded.author, email = excluded.email,
		categories = excluded.categories, enclosures = excluded.enclosures,
		published = excluded.published, updated = excluded.updated,
		sort_time = coalesce(excluded.published, excluded.updated, items.first_seen),
		hash = excluded.hash, canonical_url = excluded.canonical_url,
		origin_title = excluded.origin_title, origin_url = excluded.origin_url, copy_key = excluded.copy_key,
		` + pageOnUpdate + `,
		version = items.version + 1
	WHERE items.hash <> excluded.hash
	RETURNING id, version, sort_time, dup_of, article`

func collectTags(ctx context.Context, del *sql.Stmt, itemID int64, into map[string]bool) error {
	tags, err := scanColumn[string](del.QueryContext(ctx, itemID))
	for _, tag := range tags {
		into[tag] = true
	}
	return err
}

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
