package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
)

func testPush(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	feed := feedmux.Feed{URL: "https://a.example/feed", Interval: time.Hour}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{feed}); err != nil {
		t.Fatal(err)
	}
	sub := feedmux.Push{FeedURL: feed.URL, Hub: "https://hub.example/", Topic: feed.URL, CallbackID: "cb1",
		Secret: "s3cret", State: feedmux.PushSubscribing}
	if err := db.SubscribePush(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := db.SubscribePush(ctx, feedmux.Push{FeedURL: "https://unknown.example/", CallbackID: "x"}); !errors.Is(err, feedmux.ErrFeedNotFound) {
		t.Errorf("SubscribePush of an unknown feed: %v, want ErrFeedNotFound", err)
	}
	due, err := db.DuePushes(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].Secret != "s3cret" || due[0].FeedURL != feed.URL {
		t.Fatalf("DuePushes = %+v, %v; want the new subscription with its secret", due, err)
	}

	// The hub verifies before feedmux records the request: the record
	// must not undo the verification.
	lease := 10 * 24 * time.Hour
	renew := t0.Add(9 * 24 * time.Hour)
	if err := db.PushVerified(ctx, "cb1", t0, lease, renew); err != nil {
		t.Fatal(err)
	}
	if err := db.PushRequested(ctx, "cb1", "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err := db.FeedState(ctx, feed.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := st.Push
	if p.State != feedmux.PushActive || !p.LeaseEnd.Equal(t0.Add(lease)) || !p.Next.Equal(renew) || p.Secret != "" {
		t.Errorf("FeedState().Push = %+v; want active until %s, renewed at %s, no secret", p, t0.Add(lease), renew)
	}
	if !p.Active(t0) || p.Active(t0.Add(lease)) {
		t.Errorf("Active: want true before the lease ends, false at its end")
	}
	if due, _ := db.DuePushes(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("DuePushes before the renewal = %+v, want none", due)
	}

	// Pushed items are added without touching the poll's state.
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: feed.URL, ETag: `"v1"`, NextCheck: t0.Add(time.Hour)},
		[]feedmux.Item{item("a", "A", t0)}); err != nil {
		t.Fatal(err)
	}
	res, err := db.AddItems(ctx, feed.URL, []feedmux.Item{item("b", "B", t0)})
	if err != nil || res.Inserted != 1 {
		t.Fatalf("AddItems = %+v, %v", res, err)
	}
	if err := db.CountPush(ctx, "cb1", true, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.CountPush(ctx, "cb1", false, t0); err != nil {
		t.Fatal(err)
	}
	st, _ = db.FeedState(ctx, feed.URL)
	if st.ETag != `"v1"` || !st.NextCheck.Equal(t0.Add(time.Hour)) || st.Items != 2 || st.Push.Pushes != 1 || st.Push.Rejected != 1 {
		t.Errorf("after a push: state %+v; want the poll's ETag and schedule, 2 items, 1 push, 1 rejected", st)
	}
	if _, err := db.AddItems(ctx, "https://unknown.example/", nil); !errors.Is(err, feedmux.ErrFeedNotFound) {
		t.Errorf("AddItems of an unknown feed: %v, want ErrFeedNotFound", err)
	}

	// A new hub retires the old subscription, to be cancelled.
	sub2 := sub
	sub2.Hub, sub2.CallbackID = "https://other-hub.example/", "cb2"
	if err := db.SubscribePush(ctx, sub2); err != nil {
		t.Fatal(err)
	}
	old, err := db.PushByCallback(ctx, "cb1")
	if err != nil || old.State != feedmux.PushUnsubscribing {
		t.Errorf("the old subscription: %+v, %v; want unsubscribing", old, err)
	}
	if err := db.PushRequested(ctx, "cb1", "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if old, _ := db.PushByCallback(ctx, "cb1"); old.State != feedmux.PushUnsubscribed {
		t.Errorf("after the cancellation request: %s, want unsubscribed", old.State)
	}
	if st, _ := db.FeedState(ctx, feed.URL); st.Push.Hub != sub2.Hub {
		t.Errorf("FeedState().Push.Hub = %q, want the new hub", st.Push.Hub)
	}

	// A feed no longer configured cancels its subscription.
	if err := db.SyncFeeds(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.PushByCallback(ctx, "cb2"); p.State != feedmux.PushUnsubscribing {
		t.Errorf("subscription of a removed feed: %s, want unsubscribing", p.State)
	}
	if err := db.ForgetPush(ctx, "cb2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PushByCallback(ctx, "cb2"); !errors.Is(err, feedmux.ErrUnknownCallback) {
		t.Errorf("PushByCallback after ForgetPush: %v, want ErrUnknownCallback", err)
	}
}

// testHub: the subscriptions at feedmux's own hub are kept by topic and
// callback, replaced whole, and deleted.
func testHub(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	a := feedmux.HubSubscription{Topic: "https://feedmux.example/tags/world.atom", Callback: "https://reader.example/cb",
		Secret: "s", LeaseEnd: t0.Add(24 * time.Hour), Delivered: `"e1"`}
	b := feedmux.HubSubscription{Topic: "https://feedmux.example/all.atom", Callback: "https://reader.example/cb",
		LeaseEnd: t0.Add(time.Hour), Failures: 2, NextTry: t0.Add(time.Minute), LastError: "status 500"}
	for _, s := range []feedmux.HubSubscription{a, b} {
		if err := db.SaveHubSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	a.Delivered, a.Secret = `"e2"`, ""
	if err := db.SaveHubSubscription(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := db.HubSubscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]feedmux.HubSubscription{b, a}, got); diff != "" {
		t.Errorf("HubSubscriptions, by topic then callback (-want +got):\n%s", diff)
	}
	if err := db.DeleteHubSubscription(ctx, b.Topic, b.Callback); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteHubSubscription(ctx, b.Topic, "https://nobody.example/"); err != nil {
		t.Errorf("deleting a subscription that is not there: %v", err)
	}
	if got, err := db.HubSubscriptions(ctx); err != nil || len(got) != 1 || got[0].Topic != a.Topic {
		t.Errorf("after the deletion: %+v, %v; want only a", got, err)
	}
}
