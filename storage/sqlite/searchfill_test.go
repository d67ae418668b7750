package sqlite

import (
	"slices"
	"testing"

	"github.com/feedmux/feedmux"
)

// TestOpen_FillsSearch: a database made before the search index, with
// items in it, has them in the index once opened.
func TestOpen_FillsSearch(t *testing.T) {
	ctx := t.Context()
	db := openAfter(t, "_search.sql", `
		INSERT INTO feeds (id, url) VALUES (1, 'https://a.example/rss');
		INSERT INTO items (feed_id, key, title, content, article, first_seen, sort_time, hash) VALUES
			(1, 'a', 'Quarry flooded', '<p>Rain <b>again</b></p>', '', 1, 1, x'00'),
			(1, 'b', 'Harbour news', '<p>Nothing</p>', '<p>The <i>quarry</i> reopens</p>', 2, 2, x'00'),
			(1, 'c', 'Other', '<a href="https://quarry.example/">x</a>', '', 3, 3, x'00')`)
	s, _ := feedmux.ParseSearch("quarry")
	page, err := db.ItemPage(ctx, ItemFilter{Search: &s})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range page.Items {
		got = append(got, it.Key)
	}
	if !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("items stored before the index, searched: %q, want [b a] (c only links to quarry.example)", got)
	}
	var left int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = ?`, searchFillKey).Scan(&left); err != nil || left != 0 {
		t.Errorf("fill marker left: %d, %v", left, err)
	}
}
