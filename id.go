package feedmux

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ItemKey identifies an item within its feed: its GUID, else its link, else a
// hash of its title and publication date. Feeds that change an item's title
// without a GUID or link therefore show it as a new item; nothing better can
// be done with what they give.
func ItemKey(guid, link, title string, published time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if l := strings.TrimSpace(link); l != "" {
		return l
	}
	h := sha256.New()
	h.Write([]byte(strings.TrimSpace(title)))
	h.Write([]byte{0})
	if !published.IsZero() {
		h.Write([]byte(published.UTC().Format(time.RFC3339)))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// idSpace is the UUID namespace of feedmux output ids (UUIDv5 of the project
// URL in the URL namespace); changing it changes every id ever published.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/feedmux/feedmux"))

// ItemID is the output id of an item (Atom id, RSS guid, JSON Feed id): a
// urn:uuid IRI that depends only on the source feed's configured URL and the
// item's key, so it survives restarts and a rebuilt database.
func ItemID(feedURL, key string) string {
	return uuidURN("item\x00" + feedURL + "\x00" + key)
}

// FeedID is the Atom id of a source feed, used in an entry's source element.
func FeedID(feedURL string) string { return uuidURN("feed\x00" + feedURL) }

// TagFeedID is the Atom id of the merged feed of a set of tags, named by its
// path ("tags/middle-east", "all").
func TagFeedID(name string) string { return uuidURN("tag\x00" + name) }

func uuidURN(name string) string {
	return uuid.NewSHA1(idSpace, []byte(name)).URN()
}
