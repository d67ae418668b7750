package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// queueBehind holds the writer, starts each write on its own goroutine,
// waits until all of them are queued, runs whileQueued, then lets the
// writer go and waits for every write to end.
func queueBehind(t *testing.T, db *sqlite.DB, whileQueued func(), writes ...func()) {
	t.Helper()
	held, release := make(chan struct{}), make(chan struct{})
	holding := make(chan error, 1)
	go func() { holding <- db.HoldWriter(t.Context(), func() { close(held); <-release }) }()
	<-held
	var wg sync.WaitGroup
	for _, w := range writes {
		wg.Go(w)
	}
	for deadline := time.Now().Add(10 * time.Second); db.QueuedWrites() < len(writes); {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued behind the held writer, want %d", db.QueuedWrites(), len(writes))
		}
		time.Sleep(time.Millisecond)
	}
	whileQueued()
	close(release)
	wg.Wait()
	if err := <-holding; err != nil {
		t.Fatal(err)
	}
}

func pollOf(feedURL string, n int) []feedmux.Item {
	items := make([]feedmux.Item, n)
	for i := range items {
		key := fmt.Sprintf("%s-%d", feedURL, i)
		items[i] = item(key, "Headline "+key, t0.Add(time.Duration(i)*time.Minute), "news")
		items[i].URL = feedURL + "/" + fmt.Sprint(i)
	}
	return items
}

// TestDB_GroupCommit: polls that wait for the writer share its next
// transaction, and one poll's failure (its feed unknown, its caller gone)
// is its own: the others are stored, each with its state.
func TestDB_GroupCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, "")
	var feeds []feedmux.Feed
	for i := range 12 {
		feeds = append(feeds, feedmux.Feed{URL: fmt.Sprintf("https://f%d.example", i)})
	}
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		t.Fatal(err)
	}
	results := make([]error, len(feeds))
	save := func(i int, ctx context.Context) func() {
		return func() {
			st := feedmux.FeedState{URL: feeds[i].URL, ETag: "v1"}
			res, err := db.SaveItems(ctx, st, pollOf(feeds[i].URL, 5))
			if err == nil && res.Inserted != 5 {
				err = fmt.Errorf("inserted %d items, want 5", res.Inserted)
			}
			results[i] = err
		}
	}

	var first []func()
	for i := range 6 {
		first = append(first, save(i, ctx))
	}
	queueBehind(t, db, func() {}, first...)
	if got := db.SharedWrites(); got != 6 {
		t.Errorf("%d writes shared a transaction, want the 6 queued together", got)
	}

	gone, cancel := context.WithCancel(ctx)
	var unknownErr error
	second := []func(){
		save(6, ctx), save(7, ctx), save(8, gone), save(9, ctx),
		func() {
			_, unknownErr = db.AddItems(ctx, "https://unknown.example", pollOf("https://unknown.example", 2))
		},
	}
	queueBehind(t, db, cancel, second...)
	if !errors.Is(unknownErr, feedmux.ErrFeedNotFound) {
		t.Errorf("AddItems to an unknown feed in a batch: %v, want ErrFeedNotFound", unknownErr)
	}
	if !errors.Is(results[8], context.Canceled) {
		t.Errorf("a write whose caller left before the batch: %v, want context.Canceled", results[8])
	}
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 9} {
		if results[i] != nil {
			t.Errorf("save of %s: %v", feeds[i].URL, results[i])
		}
	}
	if n, err := db.ItemCount(ctx); err != nil || n != 45 {
		t.Errorf("ItemCount = %d, %v; want 45 (nine polls of five, none of the failed ones)", n, err)
	}
	// Search rows are written at the end of each transaction: one for each
	// item stored, by a shared transaction or by one retried alone.
	s, _ := feedmux.ParseSearch("headline")
	if n, err := db.SearchMatches(ctx, &s); err != nil || n != 45 {
		t.Errorf("index rows matching headline: %d (%v), want 45", n, err)
	}
	states, err := db.FeedStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		stored := st.URL != feeds[8].URL && st.URL != feeds[10].URL && st.URL != feeds[11].URL
		if (st.ETag == "v1") != stored {
			t.Errorf("%s: ETag %q, want the state of its poll saved with its items (%v)", st.URL, st.ETag, stored)
		}
	}
}
