package aggregator

import (
	"encoding/binary"
	"encoding/json"
	"hash"
	"hash/fnv"
	"maps"
	"slices"
	"sync"

	"github.com/feedmux/feedmux"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// unchanged remembers, for each feed, the source items of its last stored
// poll by a hash of what gofeed parsed, so that an item that did not change
// costs its parse and a hash, not a sanitize, a tag or a write: a source
// that never answers 304 serves the same items poll after poll. What is
// remembered holds only under the same feed configuration and rules (the
// fingerprint); a restart forgets it, and the first poll after does the
// whole work once.
type unchanged struct {
	mu    sync.Mutex
	feeds map[string]itemMemo // by feed URL
}

// itemMemo is what one poll knows of its feed's source items: source hash
// to keyHash of the item's key (0 for an item the feed's filters drop).
// Hashes rather than keys: a daemon remembers every item of every feed.
type itemMemo struct {
	fingerprint string
	known       map[uint64]uint64 // the last stored poll's
	seen        map[uint64]uint64 // this poll's
	skipped     int               // items of this poll found in known
}

// lookup hashes a parsed item and reports whether the last stored poll
// brought it unchanged, with the keyHash of its key then. A nil memo knows
// nothing. An item not known is noted with no key until note gives one:
// the feed's filters may drop it.
func (m *itemMemo) lookup(src *gofeed.Item, orig *rss.Item) (hash, key uint64, unchanged bool) {
	if m == nil {
		return 0, 0, false
	}
	hash = sourceHash(src, orig)
	key, unchanged = m.known[hash]
	m.seen[hash] = key
	if unchanged {
		m.skipped++
	}
	return hash, key, unchanged
}

// note records the keyHash of the item this poll normalized from hash.
func (m *itemMemo) note(hash, key uint64) {
	if m != nil {
		m.seen[hash] = key
	}
}

// unchanged is the number of the poll's items left out as unchanged.
func (m *itemMemo) unchanged() int {
	if m == nil {
		return 0
	}
	return m.skipped
}

func newUnchanged() *unchanged { return &unchanged{feeds: map[string]itemMemo{}} }

// memo returns what is known of the feed's items, for a poll under
// fingerprint; nothing when the fingerprint changed.
func (u *unchanged) memo(feedURL, fingerprint string) *itemMemo {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := itemMemo{fingerprint: fingerprint, seen: map[uint64]uint64{}}
	if last, ok := u.feeds[feedURL]; ok && last.fingerprint == fingerprint {
		m.known = last.known
	}
	return &m
}

// remember keeps what a poll saw, once its items are stored.
func (u *unchanged) remember(feedURL string, m *itemMemo) {
	if m == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.feeds[feedURL] = itemMemo{fingerprint: m.fingerprint, known: m.seen}
}

// forget drops what is known of a feed: its poll was not stored.
func (u *unchanged) forget(feedURL string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.feeds, feedURL)
}

// feedFingerprint is what normalizing a feed's items depends on besides
// the items: its configuration and the tagging rules.
func feedFingerprint(feed feedmux.Feed, tagger *Tagger) string {
	data, _ := json.Marshal(feed)
	if tagger != nil {
		data = append(data, tagger.Fingerprint()...)
	}
	return string(data)
}

// keyHash is an item key's hash, as itemMemo keeps it.
func keyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64() | 1 // never 0, which stands for no key
}

// sourceHash hashes every field of a parsed item that normalize reads.
func sourceHash(src *gofeed.Item, orig *rss.Item) uint64 {
	h := fnv.New64a()
	put := func(ss ...string) {
		for _, s := range ss {
			binary.Write(h, binary.LittleEndian, uint32(len(s)))
			h.Write([]byte(s))
		}
	}
	put(src.GUID, src.Link, src.Title, src.Description, src.Content, src.Published, src.Updated)
	put(src.Links...)
	put(src.Categories...)
	for _, a := range append([]*gofeed.Person{src.Author}, src.Authors...) {
		if a != nil {
			put(a.Name, a.Email)
		}
	}
	for _, e := range src.Enclosures {
		if e != nil {
			put(e.URL, e.Type, e.Length)
		}
	}
	putExtensions(h, put, src)
	if orig != nil {
		if orig.GUID != nil {
			put(orig.GUID.Value, orig.GUID.IsPermalink)
		}
		if orig.Source != nil {
			put(orig.Source.Title, orig.Source.URL)
		}
	}
	return h.Sum64()
}

// putExtensions hashes the item's extension elements in a fixed order.
func putExtensions(h hash.Hash64, put func(...string), src *gofeed.Item) {
	for _, prefix := range slices.Sorted(maps.Keys(src.Extensions)) {
		elems := src.Extensions[prefix]
		for _, name := range slices.Sorted(maps.Keys(elems)) {
			for _, e := range elems[name] {
				put(prefix, name, e.Value)
				for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
					put(k, e.Attrs[k])
				}
			}
		}
	}
	h.Write([]byte{0})
}
