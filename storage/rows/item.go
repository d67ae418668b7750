package rows

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
)

// ItemHash covers every stored field of an item, tags included, so that a
// change in any of them (or in the feed's configured tags) rewrites it;
// cats and encs are its categories and enclosures as stored (JSON).
func ItemHash(it *feedmux.Item, cats, encs []byte) []byte {
	// Each part with its length before it, in one buffer hashed at once.
	b := make([]byte, 0, 256+len(it.Summary)+len(it.Content)+len(cats)+len(encs))
	for _, s := range []string{it.GUID, it.URL, it.Title, it.Summary, it.Content, it.Author, it.Email} {
		b = appendPart(b, s)
	}
	b = appendPart(appendPart(b, cats), encs)
	for _, s := range []string{strings.Join(it.Tags, " "), it.Origin.Title, it.Origin.SiteURL} {
		b = appendPart(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(unixOrZero(it.Published)))
	b = binary.LittleEndian.AppendUint64(b, uint64(unixOrZero(it.Updated)))
	sum := sha256.Sum256(b)
	return sum[:16]
}

// appendPart appends s to b, its length first.
func appendPart[T string | []byte](b []byte, s T) []byte {
	return append(binary.LittleEndian.AppendUint64(b, uint64(len(s))), s...)
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

type enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

// EnclosuresJSON is an item's enclosures as both stores keep them.
func EnclosuresJSON(es []feedmux.Enclosure) []byte {
	out := make([]enclosure, len(es))
	for i, e := range es {
		out[i] = enclosure(e)
	}
	b, _ := json.Marshal(out)
	return b
}

// DecodeItemJSON reads an item's stored categories and enclosures into it.
func DecodeItemJSON(it *feedmux.Item, cats, encs string) error {
	if err := json.Unmarshal([]byte(cats), &it.Categories); err != nil {
		return fmt.Errorf("item %q categories: %w", it.Key, err)
	}
	var es []enclosure
	if err := json.Unmarshal([]byte(encs), &es); err != nil {
		return fmt.Errorf("item %q enclosures: %w", it.Key, err)
	}
	for _, e := range es {
		it.Enclosures = append(it.Enclosures, feedmux.Enclosure(e))
	}
	return nil
}
