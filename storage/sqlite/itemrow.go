package sqlite

import (
	"encoding/json"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// itemRow is what an item's row stores beside the item's own fields,
// made before taking the writer, which only one poll holds at a time.
type itemRow struct {
	cats, encs     string // JSON
	hash           []byte
	canonical, key string // its canonical URL and copy key
	body           string // the search index's text of its summary and content
}

func itemRows(items []feedmux.Item) []itemRow {
	out := make([]itemRow, len(items))
	for i := range items {
		it := &items[i]
		cats, _ := json.Marshal(nonNil(it.Categories))
		encs := rows.EnclosuresJSON(it.Enclosures)
		out[i] = itemRow{
			cats: string(cats), encs: string(encs), hash: rows.ItemHash(it, cats, encs),
			canonical: feedmux.CanonicalURL(it.URL), key: copyKey(it),
			body: feedmux.SearchBody(it.Summary, it.Content, ""),
		}
	}
	return out
}
