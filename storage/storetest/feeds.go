package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

func testSyncFeeds(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	a := feedmux.Feed{URL: "https://a.example/rss", Tags: []string{"x"}}
	b := feedmux.Feed{URL: "https://b.example/rss"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{item("1", "One", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{b}); err != nil {
		t.Fatal(err)
	}
	states, err := db.FeedStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].URL != b.URL {
		t.Errorf("FeedStates after removing a = %+v, want only b", states)
	}
	// The removed feed's items stay.
	got, err := db.Items(ctx, feedmux.ItemFilter{Tags: []string{"x"}})
	if err != nil || len(got) != 1 {
		t.Errorf("Items(x) = %v, %v; want the removed feed's item kept", keys(got), err)
	}
}

func testSyncFeeds_Gone(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	f := feedmux.Feed{URL: "https://a.example/rss", Tags: []string{"x"}, Interval: time.Hour}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	gone := feedmux.FeedState{URL: f.URL, Gone: true, LastStatus: 410, Errors: 1, NextCheck: t0.Add(time.Hour)}
	if _, err := db.SaveItems(ctx, gone, nil); err != nil {
		t.Fatal(err)
	}
	state := func() feedmux.FeedState {
		t.Helper()
		st, err := db.FeedState(ctx, f.URL)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	if st := state(); !st.Gone {
		t.Errorf("an unchanged configuration revived a gone feed: %+v", st)
	}
	f.Tags = []string{"x", "y"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{f}); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.Gone || !st.NextCheck.IsZero() {
		t.Errorf("a changed configuration left the feed gone or not due: %+v", st)
	}
}

func testActivity(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	items := []feedmux.Item{
		item("today", "T", t0.Add(-time.Hour), "world"),
		item("today2", "T", t0, "world", "iran"),
		item("yesterday", "T", t0.Add(-25*time.Hour), "world"),
		item("old", "T", t0.Add(-20*24*time.Hour), "world"),
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL}, items); err != nil {
		t.Fatal(err)
	}
	tags, err := db.TagActivity(ctx, t0, 14)
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := db.FeedActivity(ctx, t0, 14)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 14)
	want[13], want[12] = 2, 1
	if !slices.Equal(tags["world"], want) || !slices.Equal(feeds[feed.URL], want) || tags["iran"][13] != 1 {
		t.Errorf("TagActivity = %v, FeedActivity = %v, want world and the feed %v", tags, feeds, want)
	}
}
