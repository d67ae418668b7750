package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/feedmux/feedmux"
)

// The search index, items_search, is a contentless FTS5 table
// (contentless_delete=1) whose rowid is the item's id. It holds the text of
// an item, not its markup: indexed as stored, every item's sanitized HTML
// would make href, https, rel, noopener and p match nearly everything, and
// a link's host match items that merely link to it. SQLite cannot take the
// markup out itself, so storage writes the text from Go, in the
// transaction that writes the item (SaveItems, SavePage). Deletions need
// no text: a trigger on items removes an item's row whatever deletes it
// (retention, a feed's trimming, a cascade from its feed).
//
// An external-content table (content='items') kept by triggers would have
// needed no Go, but FTS5 indexes what the columns hold, the markup; in the
// search benchmark's items every one carries a link, so href, https and
// noopener would each match all 100,000. Contentless, the index stores no
// second copy of the text; it cannot give snippets, which a feed does not
// show. It costs SaveItems about a fifth more CPU (BENCHMARKS.md).
//
// Every item is indexed, copies (dup_of) included; the query leaves out
// copies as /all does, so that a copy that becomes the first when the first
// is removed is found without being indexed again.

// searchFillKey is the meta key under which a schema change that created
// the index records the last item id filled in; it is gone once every item
// stored before is in the index.
const searchFillKey = "search_fill"

// searchRow is an item's text for the index.
type searchRow struct {
	id                               int64
	title, summary, content, article string
	body                             string // their text, when known before the transaction
}

// indexLater has rows indexed at the end of the write transaction under
// way.
func (db *DB) indexLater(rows []searchRow) {
	db.toIndex.Lock()
	db.toIndex.rows = append(db.toIndex.rows, rows...)
	db.toIndex.Unlock()
}

// indexItems writes the items' text into the index, replacing what it held
// for them, in one statement: FTS5 writes what it has pending at each
// statement's savepoint, so a statement per item would write a segment
// per item (and then merge them) where one per transaction (runTx)
// writes one.
func indexItems(ctx context.Context, tx *sql.Tx, rows []searchRow) error {
	if len(rows) == 0 {
		return nil
	}
	vals := make([][3]any, len(rows))
	for i, r := range rows {
		// Titles are plain text already.
		body := r.body
		if body == "" {
			body = feedmux.SearchBody(r.summary, r.content, r.article)
		}
		vals[i] = [3]any{r.id, r.title, body}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	// contentless_delete lets REPLACE drop an updated item's old row. An
	// item deleted since its row was made (trimmed by retention in the
	// same transaction) is left out; of two rows of one item, the later
	// wins.
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO items_search (rowid, title, body)
		SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)
		WHERE EXISTS (SELECT 1 FROM items WHERE id = value ->> 0)`, string(b))
	return err
}

// fillSearch puts the items stored before the index existed into it, a
// batch per transaction, remembering how far it got so that an
// interrupted fill goes on where it stopped when the database is next
// opened. It does nothing once the fill is done.
func (db *DB) fillSearch(ctx context.Context) error {
	const batch = 2000
	for {
		done := false
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var last string
			err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, searchFillKey).Scan(&last)
			if err == sql.ErrNoRows {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			from, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				return err
			}
			to, err := fillSearchBatch(ctx, tx, from, batch)
			if err != nil {
				return err
			}
			if to == from {
				done = true
				_, err = tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, searchFillKey)
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = ?`, strconv.FormatInt(to, 10), searchFillKey)
			return err
		})
		if err != nil {
			return fmt.Errorf("fill the search index: %w", err)
		}
		if done {
			return nil
		}
	}
}

// fillSearchBatch indexes up to n items with ids above from and returns
// the last id it indexed (from when there were none).
func fillSearchBatch(ctx context.Context, tx *sql.Tx, from int64, n int) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, title, summary, content, article FROM items
		WHERE id > ? ORDER BY id LIMIT ?`, from, n)
	if err != nil {
		return 0, err
	}
	var batch []searchRow
	for rows.Next() {
		var r searchRow
		if err := rows.Scan(&r.id, &r.title, &r.summary, &r.content, &r.article); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(batch) == 0 {
		return from, nil
	}
	return batch[len(batch)-1].id, indexItems(ctx, tx, batch)
}
