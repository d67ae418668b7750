package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// SaveItems records one poll of a feed in a single transaction: its new state
// and its items. New items are inserted, changed ones updated (with their
// tags), unchanged ones left alone; nothing is deleted. An item's FirstSeen is
// kept from its first insertion, and set to now when zero.
func (db *DB) SaveItems(ctx context.Context, st feedmux.FeedState, items []feedmux.Item) (feedmux.SaveResult, error) {
	res, err := db.saveItems(ctx, items, func(tx pgx.Tx) (int64, error) { return saveFeedState(ctx, tx, &st, db.Instance) })
	if err != nil {
		return feedmux.SaveResult{}, fmt.Errorf("save items of %s: %w", st.URL, err)
	}
	return res, nil
}

// AddItems stores items of the feed configured with feedURL as SaveItems
// does, without touching the feed's state (its validators, schedule and
// errors belong to polling): for the items a hub pushed. Nothing is
// deleted, as by SaveItems; the feed must have been stored
// (feedmux.ErrFeedNotFound otherwise).
func (db *DB) AddItems(ctx context.Context, feedURL string, items []feedmux.Item) (feedmux.SaveResult, error) {
	res, err := db.saveItems(ctx, items, func(tx pgx.Tx) (int64, error) {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM feeds WHERE url = $1`, feedURL).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = feedmux.ErrFeedNotFound
		}
		return id, err
	})
	if err != nil {
		return feedmux.SaveResult{}, fmt.Errorf("add items of %s: %w", feedURL, err)
	}
	return res, nil
}

// saveItems writes items in one transaction, under the feed whose row id
// feed returns in it. The transaction may carry other polls' writes too
// (storage/batch), so its statements run to the end once begun, whatever
// becomes of ctx.
func (db *DB) saveItems(ctx context.Context, items []feedmux.Item, feed func(pgx.Tx) (int64, error)) (feedmux.SaveResult, error) {
	var res feedmux.SaveResult
	now := db.Now().UTC()
	caller, ctx := ctx, context.WithoutCancel(ctx)
	err := db.group.Do(caller, func(tx pgx.Tx) error {
		res = feedmux.SaveResult{}
		feedID, err := feed(tx)
		if err != nil || len(items) == 0 {
			return err
		}
		sv, err := newSaver(ctx, tx, feedID, now)
		if err != nil {
			return err
		}
		for i := range items {
			if err := sv.save(&items[i], &res); err != nil {
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
	tx        pgx.Tx
	feedID    int64
	now       time.Time
	wantPages bool // the feed has full_content: its new items' pages are fetched
	anyBuried bool // the feed has tombstones: each item is checked against them

	changed map[string]bool // the tags whose items changed
	search  []searchRow     // the text of the items written, for the index
}

func newSaver(ctx context.Context, tx pgx.Tx, feedID int64, now time.Time) (*saver, error) {
	sv := &saver{ctx: ctx, tx: tx, feedID: feedID, now: now, changed: map[string]bool{}}
	err := tx.QueryRow(ctx, `SELECT full_content, EXISTS (SELECT 1 FROM tombstones WHERE feed_id = $1)
		FROM feeds WHERE id = $1`, feedID).Scan(&sv.wantPages, &sv.anyBuried)
	return sv, err
}

// save writes one item: skipped when retention removed it or it did not
// change; inserted and placed among the copies of its article; or updated
// with its tags.
func (sv *saver) save(it *feedmux.Item, res *feedmux.SaveResult) error {
	ctx, tx := sv.ctx, sv.tx
	if sv.anyBuried {
		var gone bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tombstones WHERE feed_id = $1 AND key = $2)`,
			sv.feedID, text(it.Key)).Scan(&gone); err != nil {
			return err
		}
		if gone {
			return nil // removed by retention: the source still lists it
		}
	}
	cats, _ := json.Marshal(nonNil(it.Categories))
	encs := rows.EnclosuresJSON(it.Enclosures)
	firstSeen := cmp.Or(it.FirstSeen, sv.now)
	canonical, key := feedmux.CanonicalURL(it.URL), copyKey(it)
	var (
		id, sortTime int64
		version      int
		dupOf        *int64
		article      string
	)
	err := tx.QueryRow(ctx, upsertItemSQL,
		sv.feedID, text(it.Key), text(it.GUID), text(it.URL), text(it.Title), text(it.Summary), text(it.Content),
		text(it.Author), text(it.Email), text(string(cats)), text(string(encs)), nullUnix(it.Published), nullUnix(it.Updated),
		firstSeen.Unix(), rows.ItemHash(it, cats, encs), text(canonical),
		text(it.Origin.Title), text(it.Origin.SiteURL), text(key), sv.wantPages,
	).Scan(&id, &version, &sortTime, &dupOf, &article)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // unchanged
	case err != nil:
		return fmt.Errorf("save item %q: %w", it.Key, err)
	}
	sv.search = append(sv.search, searchRow{id: id, title: it.Title, summary: it.Summary, content: it.Content, article: article})
	if version == 1 {
		if dupOf, err = sv.inserted(it, id, sortTime, canonical, key, res); err != nil {
			return err
		}
	} else {
		res.Updated++
		if dupOf == nil {
			if err := collectTags(ctx, tx, id, sv.changed); err != nil {
				return err
			}
		}
	}
	if dupOf != nil {
		// A copy's tags go to the first, which keeps its own too.
		id = *dupOf
		if err := tx.QueryRow(ctx, `SELECT sort_time FROM items WHERE id = $1`, id).Scan(&sortTime); err != nil {
			return err
		}
	}
	if err := sv.tag(id, sortTime, it.Tags); err != nil {
		return fmt.Errorf("tag item %q: %w", it.Key, err)
	}
	return nil
}

// inserted places the item just inserted as id among the copies of its
// article, and returns the first it is a copy of (nil when it is one).
func (sv *saver) inserted(it *feedmux.Item, id, sortTime int64, canonical, key string, res *feedmux.SaveResult) (*int64, error) {
	res.Inserted++
	pl, err := place(sv.ctx, sv.tx, it, id, sv.feedID, sortTime, canonical, key)
	if err != nil {
		return nil, err
	}
	if err := sv.tag(id, sortTime, pl.tags); err != nil {
		return nil, err
	}
	if pl.first != 0 {
		return &pl.first, nil
	}
	if !pl.adopted {
		res.New = append(res.New, feedmux.NewItem{ID: id, Key: it.Key})
	}
	return nil, nil
}

// tag gives the item id the tags.
func (sv *saver) tag(id, sortTime int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	_, err := sv.tx.Exec(sv.ctx, `INSERT INTO item_tags (item_id, tag, sort_time)
		SELECT $1, tag, $2 FROM unnest($3::text[]) tag ON CONFLICT DO NOTHING`, id, sortTime, tags)
	if err != nil {
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
func (db *DB) afterInsert(ctx context.Context, tx pgx.Tx, feedID int64, now time.Time, res *feedmux.SaveResult, changed map[string]bool) error {
	if _, err := tx.Exec(ctx, `UPDATE feeds SET last_new_item = $1 WHERE id = $2`, now.Unix(), feedID); err != nil {
		return err
	}
	limit := db.Retention.MaxItemsPerFeed
	if limit <= 0 {
		return nil
	}
	over, err := queryColumn[int64](ctx, tx, `SELECT id FROM items WHERE feed_id = $1
		ORDER BY sort_time DESC, id DESC OFFSET $2`, feedID, limit)
	if err != nil {
		return err
	}
	if err := removeItems(ctx, tx, over, now, changed); err != nil {
		return err
	}
	res.New = slices.DeleteFunc(res.New, func(n feedmux.NewItem) bool { return slices.Contains(over, n.ID) })
	return nil
}

// upsertItemSQL inserts an item or, when its hash changed, updates it. It
// returns a row only when it wrote one; version 1 means inserted.
var upsertItemSQL = `
	INSERT INTO items (feed_id, key, guid, url, title, summary, content, author, email,
		categories, enclosures, published, updated, first_seen, sort_time, hash, canonical_url,
		origin_title, origin_url, copy_key, ungrouped, page_state)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::bigint, $13::bigint, $14::bigint,
		coalesce($12, $13, $14), $15, $16, $17, $18, $19, true, CASE WHEN $20::boolean THEN 1 ELSE 0 END)
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

// collectTags removes the item's tags, adding them to into.
func collectTags(ctx context.Context, tx pgx.Tx, itemID int64, into map[string]bool) error {
	tags, err := queryColumn[string](ctx, tx, `DELETE FROM item_tags WHERE item_id = $1 RETURNING tag`, itemID)
	for _, tag := range tags {
		into[tag] = true
	}
	return err
}
