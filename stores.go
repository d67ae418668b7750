package feedmux

import (
	"context"
	"time"
)

// The contract between feedmux's parts and its database: small interfaces,
// one per concern, that storage/sqlite implements (and any other store
// must). Nothing above storage knows which database it talks to. The
// errors a store returns wrap ErrFeedNotFound, ErrUnknownTag,
// ErrUnknownCallback and ErrStorage where those apply.

// FeedStore keeps the configured sources and what polling learned of them.
type FeedStore interface {
	// SyncFeeds records the configured feeds: new ones are added, those
	// no longer configured are marked inactive (their items stay).
	SyncFeeds(ctx context.Context, feeds []Feed) error
	// FeedState returns what is known of the feed configured with url.
	FeedState(ctx context.Context, url string) (FeedState, error)
	// FeedStates returns the state of every configured feed, by URL.
	FeedStates(ctx context.Context) ([]FeedState, error)
	// FeedHealth counts the configured feeds by health: ok, failing, gone.
	FeedHealth(ctx context.Context) (map[string]int, error)
}

// ItemStore keeps items: a poll's save is atomic with its feed's state.
type ItemStore interface {
	// SaveItems writes a poll: the feed's new state and its items, in one
	// transaction.
	SaveItems(ctx context.Context, st FeedState, items []Item) (SaveResult, error)
	// AddItems writes pushed items of a feed without touching its state.
	AddItems(ctx context.Context, feedURL string, items []Item) (SaveResult, error)
	Items(ctx context.Context, filter ItemFilter) ([]Item, error)
	ItemPage(ctx context.Context, filter ItemFilter) (ItemPage, error)
	ItemCount(ctx context.Context) (int, error)
	Tags(ctx context.Context) ([]TagCount, error)
	TagActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error)
	FeedActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error)
	// Prune removes up to batch items beyond r.
	Prune(ctx context.Context, r Retention, batch int) (PruneResult, error)
	// RetagBatch and SetTags re-tag stored items under new rules.
	RetagBatch(ctx context.Context, after int64, n int) (rows []RetagRow, last int64, err error)
	SetTags(ctx context.Context, tags map[int64][]string) ([]string, error)
}

// StoryStore keeps the grouping of items into stories.
type StoryStore interface {
	StoryWindow(ctx context.Context, since time.Time) ([]StoryRow, error)
	Ungrouped(ctx context.Context, limit int) ([]StoryRow, error)
	UngroupedCount(ctx context.Context) (int, error)
	SaveGrouping(ctx context.Context, g Grouping) ([]string, error)
	StoryPage(ctx context.Context, filter ItemFilter) (StoryPage, error)
	TopStories(ctx context.Context, since time.Time, per int) (map[string][]StorySummary, error)
}

// PageStore is the queue of article pages of full_content feeds.
type PageStore interface {
	DuePages(ctx context.Context, now time.Time, limit int) ([]PageJob, error)
	NextPageDue(ctx context.Context) (due time.Time, ok bool, err error)
	SavePage(ctx context.Context, id int64, u PageUpdate) ([]string, error)
	PageFailed(ctx context.Context, id int64, retry time.Time, giveUp bool) error
	PagesWaiting(ctx context.Context) (int, error)
}

// PushStore keeps feedmux's WebSub subscriptions at sources' hubs.
type PushStore interface {
	SubscribePush(ctx context.Context, p Push) error
	UnsubscribePush(ctx context.Context, feedURL string) error
	DuePushes(ctx context.Context, now time.Time, limit int) ([]Push, error)
	NextPushDue(ctx context.Context) (t time.Time, ok bool, err error)
	PushByCallback(ctx context.Context, callbackID string) (Push, error)
	PushRequested(ctx context.Context, callbackID, lastError string, next time.Time) error
	PushVerified(ctx context.Context, callbackID string, now time.Time, lease time.Duration, renew time.Time) error
	PushDenied(ctx context.Context, callbackID, reason string, next time.Time) error
	CountPush(ctx context.Context, callbackID string, accepted bool, now time.Time) error
	ForgetPush(ctx context.Context, callbackID string) error
}

// HubStore keeps the subscriptions of readers at feedmux's own hub.
type HubStore interface {
	HubSubscriptions(ctx context.Context) ([]HubSubscription, error)
	SaveHubSubscription(ctx context.Context, s HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error
}

// MetaStore keeps small named values of the daemon's own (the rules'
// fingerprint, a backfill's progress).
type MetaStore interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Store is a whole database.
type Store interface {
	FeedStore
	ItemStore
	StoryStore
	PageStore
	PushStore
	HubStore
	MetaStore
	// Ping says whether the database answers.
	Ping(ctx context.Context) error
	// WriteHealth says whether the latest writes succeeded.
	WriteHealth() WriteHealth
	// Size is the database's size in bytes.
	Size() (int64, error)
	// IntegrityCheck checks the database's own consistency.
	IntegrityCheck(ctx context.Context) error
	Close() error
}

// FeedClaimer is a store that several feedmux processes share: each due
// feed is polled by the one process that claims it, and the others leave
// it until it is due again. A store of one process (SQLite) is none, and
// every feed is its own.
type FeedClaimer interface {
	// ClaimFeed claims the feed for a poll: the one at url, whose host
	// (as the poller's per-host limit counts hosts) is host, for
	// instance, until now+lease. It succeeds when the stored schedule
	// says the feed is due (its next check is at or before now), no other
	// instance holds a claim of it that has not ended, and fewer than
	// perHost claims of host's feeds are live, in all processes. Saving
	// the poll (SaveItems) ends the claim. When the feed is not claimed,
	// next is when to ask again.
	ClaimFeed(ctx context.Context, c FeedClaim) (claimed bool, next time.Time, err error)
	// ReleaseClaims ends the claims instance still holds, for a process
	// that stops: the polls it cancelled are the others' at once.
	ReleaseClaims(ctx context.Context, instance string) error
}

// FeedClaim is a process's request to poll a feed; see FeedClaimer.
type FeedClaim struct {
	URL, Host, Instance string
	Now                 time.Time
	Lease               time.Duration
	PerHost             int
}

// Elector is a store shared by several processes that elects one of them
// for what must happen once: story grouping, retention, re-tagging, the
// hub's deliveries. A store of one process (SQLite) is none, and its
// process does all of it.
type Elector interface {
	// Lead waits until this process leads in role (or ctx ends), and
	// returns a context that ends when it leads no more (its connection
	// to the database broke, or ctx ended).
	Lead(ctx context.Context, role string) (context.Context, error)
}

// ChangeNotifier is a store shared by several processes that carries each
// one's changes to the others, so that every render cache (and hub) hears
// of every change.
type ChangeNotifier interface {
	// NotifyChange tells the other processes that items of tags changed.
	NotifyChange(ctx context.Context, tags []string) error
	// WatchChanges calls changed with the tags of each change another
	// process makes, until ctx ends; with nil when changes may have been
	// missed (a notification lost), for every document to be dropped.
	WatchChanges(ctx context.Context, changed func(tags []string)) error
}
