package rows

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestItemHash pins the hash of an item: it is stored with every item, and
// a hash computed differently for the same item would make the next poll
// write every stored item again.
func TestItemHash(t *testing.T) {
	it := &feedmux.Item{GUID: "g", URL: "https://a.example/1", Title: "Title", Summary: "<p>s</p>", Content: "c",
		Author: "A", Email: "a@example.com", Tags: []string{"t1", "t2"},
		Origin:    feedmux.Source{Title: "Wire", SiteURL: "https://wire.example/"},
		Published: time.Unix(1700000000, 0), Updated: time.Unix(1700000100, 0)}
	for _, c := range []struct {
		it         *feedmux.Item
		cats, encs string
		want       string
	}{
		{it, `["x"]`, `[]`, "396ded128b5db12f3f1d77216954817b"},
		{&feedmux.Item{Title: "only"}, "", "", "6b97d7ebfbfb591e782ceae3c6b545d1"},
	} {
		if got := hex.EncodeToString(ItemHash(c.it, []byte(c.cats), []byte(c.encs))); got != c.want {
			t.Errorf("ItemHash(%+v) = %s, want %s", c.it, got, c.want)
		}
	}
}
