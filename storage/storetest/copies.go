package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

const ceasefire = "Security Council demands immediate ceasefire in Gaza for Ramadan"

// aggregatorItems are Google News's copy of an Al Jazeera report and Al
// Jazeera's own item, 11 minutes apart, as normalize leaves them.
func aggregatorItems() (google, own feedmux.Item) {
	google = item("g1", ceasefire, t0, "news")
	google.URL = "https://news.google.com/rss/articles/CBMiWmh0dHBz?oc=5"
	google.Origin = feedmux.Source{Title: "Al Jazeera English", SiteURL: "https://www.aljazeera.com"}
	google.Author = "Al Jazeera English"
	own = item("aj1", ceasefire, t0.Add(11*time.Minute), "middle-east")
	own.URL = "https://www.aljazeera.com/news/2024/3/25/un-security-council-demands-ceasefire"
	return google, own
}

func syncAggregatorFeeds(t *testing.T, db feedmux.Store) (google, aj feedmux.FeedState) {
	t.Helper()
	feeds := []feedmux.Feed{
		{URL: "https://news.google.com/rss", Title: "Google News"},
		{URL: "https://www.aljazeera.com/xml/rss/all.xml", Title: "Al Jazeera"},
	}
	if err := db.SyncFeeds(t.Context(), feeds); err != nil {
		t.Fatal(err)
	}
	return feedmux.FeedState{URL: feeds[0].URL}, feedmux.FeedState{URL: feeds[1].URL}
}

// testAggregatorCopy: an aggregator's copy and the publisher's own item
// are one article, shown once under the publisher's item with both feeds'
// tags, whichever arrives first; when the copy came first and was grouped,
// the publisher's item takes its story.
func testAggregatorCopy(t *testing.T, open Open) {
	t.Parallel()
	for _, c := range []struct {
		aggregatorFirst bool
		decoded         bool // the aggregator's link was read out to the article's
	}{{true, false}, {false, false}, {true, true}, {false, true}} {
		aggregatorFirst := c.aggregatorFirst
		ctx := t.Context()
		db, _ := open(t)
		gState, ajState := syncAggregatorFeeds(t, db)
		google, own := aggregatorItems()
		if c.decoded {
			google.URL = own.URL
			google.Title = "Security Council demands ceasefire" // matched by its link, not its headline
		}
		saves := []struct {
			st feedmux.FeedState
			it feedmux.Item
		}{{ajState, own}, {gState, google}}
		if aggregatorFirst {
			slices.Reverse(saves)
		}
		first, err := db.SaveItems(ctx, saves[0].st, []feedmux.Item{saves[0].it})
		if err != nil || len(first.New) != 1 {
			t.Fatalf("first save: %+v, %v", first, err)
		}
		// The grouper placed the first item (alone, its own story).
		if _, err := db.SaveGrouping(ctx, feedmux.Grouping{Grouped: []int64{first.New[0].ID}}); err != nil {
			t.Fatal(err)
		}
		second, err := db.SaveItems(ctx, saves[1].st, []feedmux.Item{saves[1].it})
		if err != nil {
			t.Fatal(err)
		}
		if second.Inserted != 1 || len(second.New) != 0 {
			t.Errorf("aggregator first %v: second save %+v, want inserted and nothing left to group", aggregatorFirst, second)
		}
		for _, tag := range []string{"news", "middle-east"} {
			items, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{tag}})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].URL != own.URL || items[0].Origin.Title != "" ||
				len(items[0].Also) != 1 || items[0].Also[0].Source.Title != "Google News" ||
				items[0].Also[0].Origin.Title != "Al Jazeera English" || items[0].Also[0].URL != google.URL {
				t.Errorf("%+v, tag %s: %+v, want Al Jazeera's item once, naming Google News too", c, tag, items)
			}
		}
		page, err := db.StoryPage(ctx, feedmux.ItemFilter{Tags: []string{"news"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Stories) != 1 || len(page.Stories[0].Items) != 1 || page.Stories[0].Items[0].URL != own.URL {
			t.Errorf("aggregator first %v: stories %+v, want one story of Al Jazeera's item", aggregatorFirst, page.Stories)
		}
		if n, err := db.UngroupedCount(ctx); err != nil || n != 0 {
			t.Errorf("aggregator first %v: %d items wait for the grouper (%v), want 0", aggregatorFirst, n, err)
		}
	}
}

// testAggregatorOnly: without the publisher's item, the aggregator's
// is shown with its publisher; a headline of the same publisher a week
// later, or of another publisher, is another article.
func testAggregatorOnly(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	gState, ajState := syncAggregatorFeeds(t, db)
	google, own := aggregatorItems()
	if _, err := db.SaveItems(ctx, gState, []feedmux.Item{google}); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(ctx, feedmux.ItemFilter{})
	if err != nil || len(items) != 1 || items[0].Origin != google.Origin || items[0].SourceName() != "Al Jazeera English via Google News" {
		t.Fatalf("the aggregator's item alone: %+v, %v", items, err)
	}
	later := own
	later.Key, later.Published = "aj2", t0.Add(8*24*time.Hour)
	other := own
	other.Key, other.URL = "aj3", "https://www.bbc.com/news/world-middle-east-1"
	res, err := db.SaveItems(ctx, ajState, []feedmux.Item{later, other})
	if err != nil || len(res.New) != 2 {
		t.Fatalf("save: %+v, %v", res, err)
	}
	if items, err := db.Items(ctx, feedmux.ItemFilter{}); err != nil || len(items) != 3 {
		t.Errorf("%d items (%v), want 3: neither is Google's copy", len(items), err)
	}
}
