package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
)

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
	w, err := sv.write(it, row)
	switch {
	case err == sql.ErrNoRows:
		return nil // unchanged
	case err != nil:
		return fmt.Errorf("save item %q: %w", it.Key, err)
	}
	indexed := searchRow{id: w.id, title: it.Title, summary: it.Summary, content: it.Content, article: w.article, body: row.body}
	if w.article != "" {
		indexed.body = "" // the stored page's article is part of it
	}
	sv.search = append(sv.search, indexed)
	if w.version == 1 {
		res.Inserted++
		if err := sv.placeNew(it, row, &w, res); err != nil {
			return err
		}
	} else {
		res.Updated++
		if !w.dupOf.Valid {
			if err := collectTags(ctx, sv.delTags, w.id, sv.changed); err != nil {
				return err
			}
		}
	}
	id, sortTime := w.id, w.sortTime
	if w.dupOf.Valid {
		// A copy's tags go to the first, which keeps its own too.
		id = w.dupOf.Int64
		if err := sv.sortTimeOf.QueryRowContext(ctx, id).Scan(&sortTime); err != nil {
			return err
		}
	}
	if err := sv.tag(id, sortTime, it.Tags); err != nil {
		return fmt.Errorf("tag item %q: %w", it.Key, err)
	}
	return nil
}

// written is what the upsert returned of an item's row.
type written struct {
	id, version, sortTime int64
	dupOf                 sql.NullInt64
	article               string
}

// write upserts the item: sql.ErrNoRows when it did not change.
func (sv *saver) write(it *feedmux.Item, row *itemRow) (written, error) {
	var w written
	err := sv.upsert.QueryRowContext(sv.ctx,
		sv.feedID, it.Key, it.GUID, it.URL, it.Title, it.Summary, it.Content, it.Author, it.Email,
		row.cats, row.encs, nullUnix(it.Published), nullUnix(it.Updated),
		cmp.Or(it.FirstSeen, sv.now).Unix(), row.hash, row.canonical,
		it.Origin.Title, it.Origin.SiteURL, row.key, sv.wantPages,
	).Scan(&w.id, &w.version, &w.sortTime, &w.dupOf, &w.article)
	return w, err
}

// placeNew places an inserted item among the copies of its article,
// setting w.dupOf when it is a copy, gives it the tags of an aggregator's
// item whose place it took, and counts it new unless it is a copy or took
// that item's place.
func (sv *saver) placeNew(it *feedmux.Item, row *itemRow, w *written, res *SaveResult) error {
	pl, err := sv.copies.place(sv.ctx, it, w.id, sv.feedID, w.sortTime, row.canonical, row.key)
	if err != nil {
		return err
	}
	if pl.first != 0 {
		w.dupOf = sql.NullInt64{Int64: pl.first, Valid: true}
	}
	if err := sv.tag(w.id, w.sortTime, pl.tags); err != nil {
		return err
	}
	if !w.dupOf.Valid && !pl.adopted {
		res.New = append(res.New, NewItem{ID: w.id, Key: it.Key})
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
