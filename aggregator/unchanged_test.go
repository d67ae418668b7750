package aggregator_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/feedmux/feedmux"
)

// TestPoller_UnchangedItems: a source that never answers 304 and serves the
// same items costs their parse and a hash: the second poll normalizes and
// writes none of them. An edited item is normalized and updated again, and
// a changed feed configuration normalizes all.
func TestPoller_UnchangedItems(t *testing.T) {
	t.Parallel()
	var edit atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link><description>d</description>`)
		for i := range 5 {
			fmt.Fprintf(w, "<item><title>Item %d</title><link>https://t.example/%d</link><description>Text %d, edit %d.</description></item>", i, i, i, edit.Load()*int32(i/4))
		}
		fmt.Fprint(w, `</channel></rss>`) // no validators: every poll downloads it all
	}))
	defer srv.Close()
	p, _ := newPoller(t)
	feed := feedmux.Feed{URL: srv.URL, Tags: []string{"x"}}
	for _, c := range []struct {
		name                         string
		feed                         feedmux.Feed
		edit                         int32
		inserted, updated, unchanged int
	}{
		{"first poll", feed, 0, 5, 0, 0},
		{"the same items", feed, 0, 0, 0, 5},
		{"item 4 edited", feed, 1, 0, 1, 4},
		{"the same again", feed, 1, 0, 0, 5},
		{"another tag on the feed", feedmux.Feed{URL: srv.URL, Tags: []string{"x", "y"}}, 1, 0, 5, 0},
	} {
		edit.Store(c.edit)
		res, err := p.Poll(t.Context(), c.feed)
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != c.inserted || res.Updated != c.updated || res.Unchanged != c.unchanged {
			t.Errorf("%s: inserted %d, updated %d, unchanged %d; want %d, %d, %d",
				c.name, res.Inserted, res.Updated, res.Unchanged, c.inserted, c.updated, c.unchanged)
		}
	}
}
