package sqlite

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"

	"github.com/feedmux/feedmux"
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
	rows := make([]itemRow, len(items))
	for i := range items {
		it := &items[i]
		cats, _ := json.Marshal(nonNil(it.Categories))
		encs, _ := json.Marshal(enclosuresJSON(it.Enclosures))
		rows[i] = itemRow{
			cats: string(cats), encs: string(encs), hash: itemHash(it, cats, encs),
			canonical: feedmux.CanonicalURL(it.URL), key: copyKey(it),
			body: feedmux.SearchBody(it.Summary, it.Content, ""),
		}
	}
	return rows
}

// itemHash covers every stored field of an item, tags included, so that a
// change in any of them (or in the feed's configured tags) rewrites it.
func itemHash(it *feedmux.Item, cats, encs []byte) []byte {
	h := sha256.New()
	for _, s := range []string{it.GUID, it.URL, it.Title, it.Summary, it.Content, it.Author, it.Email,
		string(cats), string(encs), strings.Join(it.Tags, " "), it.Origin.Title, it.Origin.SiteURL} {
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		h.Write([]byte(s))
	}
	binary.Write(h, binary.LittleEndian, unix(it.Published))
	binary.Write(h, binary.LittleEndian, unix(it.Updated))
	return h.Sum(nil)[:16]
}

type enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

func enclosuresJSON(es []feedmux.Enclosure) []enclosure {
	out := make([]enclosure, len(es))
	for i, e := range es {
		out[i] = enclosure(e)
	}
	return out
}
