package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
)

func testSaveItems(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A", Tags: []string{"world"}}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	st := feedmux.FeedState{URL: feed.URL, Title: "A's own title", ETag: `"v1"`, LastPoll: t0, NextCheck: t0.Add(time.Hour)}
	items := []feedmux.Item{
		item("1", "One", t0.Add(-3*time.Hour), "world", "iran"),
		item("2", "Two", t0.Add(-1*time.Hour), "world"),
		item("3", "Three", time.Time{}, "world"), // undated: sorted by first seen (now)
	}
	res, err := db.SaveItems(ctx, st, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(feedmux.SaveResult{Inserted: 3, Tags: []string{"iran", "world"}, New: []feedmux.NewItem{{ID: 1, Key: "1"}, {ID: 2, Key: "2"}, {ID: 3, Key: "3"}}}, res); diff != "" {
		t.Errorf("first save (-want +got):\n%s", diff)
	}

	t.Run("saving the same items again writes nothing", func(t *testing.T) {
		res, err := db.SaveItems(ctx, st, items)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(feedmux.SaveResult{}, res); diff != "" {
			t.Errorf("second save (-want +got):\n%s", diff)
		}
	})

	t.Run("newest first across tags", func(t *testing.T) {
		got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"world"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"3", "2", "1"}, keys(got)); diff != "" {
			t.Errorf("world items (-want +got):\n%s", diff)
		}
		got, err = db.Items(ctx, feedmux.ItemFilter{Tags: []string{"iran"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1"}, keys(got)); diff != "" {
			t.Errorf("iran items (-want +got):\n%s", diff)
		}
		want := feedmux.Item{
			Key: "1", GUID: "1", URL: "https://a.example/1", Title: "One", Content: "<p>One</p>",
			Categories: []string{"Cat 1"}, Tags: []string{"iran", "world"},
			Published: t0.Add(-3 * time.Hour), FirstSeen: t0,
			Source: feedmux.Source{URL: feed.URL, Title: "A"},
		}
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Errorf("stored item (-want +got):\n%s", diff)
		}
	})

	t.Run("a changed item is updated with its tags", func(t *testing.T) {
		changed := item("1", "One, corrected", t0.Add(-3*time.Hour), "world", "lebanon")
		res, err := db.SaveItems(ctx, st, []feedmux.Item{changed})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(feedmux.SaveResult{Updated: 1, Tags: []string{"iran", "lebanon", "world"}}, res); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
		got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"lebanon"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Title != "One, corrected" || !got[0].FirstSeen.Equal(t0) {
			t.Errorf("lebanon items = %+v, want the corrected item first seen at %v", got, t0)
		}
		// iran lost its only item and no feed is configured with it.
		got, err = db.Items(ctx, feedmux.ItemFilter{Tags: []string{"iran"}})
		if !errors.Is(err, feedmux.ErrUnknownTag) {
			t.Errorf("Items(iran) = %v, %v; want ErrUnknownTag after the item lost the tag", keys(got), err)
		}
	})

	t.Run("unknown tag", func(t *testing.T) {
		_, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"nope"}})
		if !errors.Is(err, feedmux.ErrUnknownTag) {
			t.Errorf("Items(nope) error = %v, want ErrUnknownTag", err)
		}
		// A configured tag is known before any item carries it.
		if err := db.SyncFeeds(ctx, []feedmux.Feed{feed, {URL: "https://b.example/", Tags: []string{"empty-yet"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"empty-yet"}}); err != nil {
			t.Errorf("Items(configured tag without items) error = %v, want nil", err)
		}
	})

	t.Run("all items and limit", func(t *testing.T) {
		got, err := db.Items(ctx, feedmux.ItemFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"3", "2"}, keys(got)); diff != "" {
			t.Errorf("all items (-want +got):\n%s", diff)
		}
	})

	t.Run("tag counts", func(t *testing.T) {
		got, err := db.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []feedmux.TagCount{
			{Tag: "empty-yet"},
			{Tag: "lebanon", Items: 1, Updated: t0.Add(-3 * time.Hour)},
			{Tag: "world", Items: 3, Updated: t0},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tags (-want +got):\n%s", diff)
		}
	})

	t.Run("feed state", func(t *testing.T) {
		got, err := db.FeedState(ctx, feed.URL)
		if err != nil {
			t.Fatal(err)
		}
		want := st
		want.Items = 3
		want.LastNewItem = t0
		want.ConfigTitle, want.Tags = "A", []string{"world"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FeedState (-want +got):\n%s", diff)
		}
		if _, err := db.FeedState(ctx, "https://unknown.example/"); !errors.Is(err, feedmux.ErrFeedNotFound) {
			t.Errorf("FeedState(unknown) error = %v, want ErrFeedNotFound", err)
		}
	})
}

func testConcurrentReadWrite(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	errc := make(chan error, 2)
	go func() {
		for i := range 50 {
			it := item(time.Duration(i).String(), "t", t0.Add(time.Duration(i)*time.Minute), "x")
			if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/"}, []feedmux.Item{it}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	go func() {
		for range 50 {
			if _, err := db.Items(ctx, feedmux.ItemFilter{}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func testItemPage(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	var items []feedmux.Item
	for i := range 7 {
		tags := []string{"a"}
		switch i % 3 {
		case 1:
			tags = []string{"a", "b"}
		case 2:
			tags = []string{"b", "private"}
		}
		// Items 5 and 6 share a time: the row id breaks the tie.
		at := t0.Add(-time.Duration(min(i, 5)) * time.Hour)
		items = append(items, item(string(rune('0'+i)), "T", at, tags...))
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
		t.Fatal(err)
	}
	walk := func(t *testing.T, f feedmux.ItemFilter) []string {
		var got []string
		for range 10 {
			page, err := db.ItemPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > f.Limit {
				t.Fatalf("page of %d items, limit %d", len(page.Items), f.Limit)
			}
			got = append(got, keys(page.Items)...)
			if page.Next.IsZero() {
				return got
			}
			f.Before = page.Next
		}
		t.Fatal("paging does not end")
		return nil
	}
	for _, tc := range []struct {
		name   string
		filter feedmux.ItemFilter
		want   []string
	}{
		{"one tag", feedmux.ItemFilter{Tags: []string{"a"}, Limit: 2}, []string{"0", "1", "3", "4", "6"}},
		{"two tags, each item once", feedmux.ItemFilter{Tags: []string{"a", "b"}, Limit: 3}, []string{"0", "1", "2", "3", "4", "6", "5"}},
		{"every item", feedmux.ItemFilter{Limit: 4}, []string{"0", "1", "2", "3", "4", "6", "5"}},
		{"every item but the private ones", feedmux.ItemFilter{Exclude: []string{"private"}, Limit: 2}, []string{"0", "1", "3", "4", "6"}},
		{"tag without the private ones", feedmux.ItemFilter{Tags: []string{"b"}, Exclude: []string{"private"}, Limit: 1}, []string{"1", "4"}},
		{"one page holds all", feedmux.ItemFilter{Tags: []string{"b"}, Limit: 50}, []string{"1", "2", "4", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, walk(t, tc.filter)); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("cursor round trip", func(t *testing.T) {
		c := feedmux.Cursor{Time: 1711454400, ID: 42}
		got, err := feedmux.ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCursor(%q) = %v, %v", c.String(), got, err)
		}
		for _, bad := range []string{"", "x", "1-", "-1", "1-0", "1-2-3", "a-b"} {
			if _, err := feedmux.ParseCursor(bad); err == nil {
				t.Errorf("ParseCursor(%q) succeeded", bad)
			}
		}
	})
}
