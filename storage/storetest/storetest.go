// Package storetest is the behaviour a feedmux.Store must have, as tests
// that any store runs: storage/sqlite and storage/postgres call Run from
// their own tests. The tests go through the feedmux.Store interface only.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// T0 is the time the stores' clocks read in the tests.
var T0 = time.Date(2024, 3, 26, 12, 0, 0, 0, time.UTC)

var t0 = T0

// Open opens a new, empty store for one test, closed when the test ends,
// whose clock reads T0. It returns the store and its Retention: the
// per-feed limit its SaveItems keeps, which a test sets between calls.
type Open func(t *testing.T) (feedmux.Store, *feedmux.Retention)

// Run runs every test against the stores open opens, each a subtest that
// runs in parallel with the others.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Open)
	}{
		{"SaveItems", testSaveItems},
		{"SyncFeeds", testSyncFeeds},
		{"SyncFeeds gone", testSyncFeeds_Gone},
		{"concurrent read and write", testConcurrentReadWrite},
		{"ItemPage", testItemPage},
		{"activity", testActivity},
		{"same article in two feeds", testSameArticleTwoFeeds},
		{"aggregator copy", testAggregatorCopy},
		{"aggregator only", testAggregatorOnly},
		{"stories", testStories},
		{"retag", testRetag},
		{"retention", testRetention},
		{"page once", testPageOnce},
		{"push", testPush},
		{"hub", testHub},
		{"search", testSearch},
		{"search article", testSearchArticle},
		{"search removed", testSearchRemoved},
		{"search syntax", testSearchSyntax},
		{"search scripts", testSearchScripts},
		{"canceled write", testCanceledWrite},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

func item(key, title string, published time.Time, tags ...string) feedmux.Item {
	return feedmux.Item{
		Key: key, GUID: key, URL: "https://a.example/" + key, Title: title,
		Content: "<p>" + title + "</p>", Published: published, Tags: tags,
		Categories: []string{"Cat " + key},
	}
}

func keys(items []feedmux.Item) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

// searchMatcher is a store that counts the rows of its search index that
// match a query, copies included (the tests of storage/sqlite and
// storage/postgres give their DB the method).
type searchMatcher interface {
	SearchMatches(ctx context.Context, s *feedmux.Search) (int, error)
}
