package feedmux

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The values the stores take and give: what the poller and the server ask
// of a database, whichever it is (storage/sqlite, storage/postgres).

// StoryRow is an item as story grouping sees it.
type StoryRow struct {
	ID, Story int64
	Title     string
	URL       string
	Source    string
	Time      time.Time // publication time, else update, else first seen
	FirstSeen time.Time
}

// Grouping is what story grouping decided for a batch of items.
type Grouping struct {
	Stories map[int64]int64 // item id: the story it joined, when not its own
	Merged  map[int64]int64 // merged story: the story it became
	Grouped []int64         // the items grouped: they wait no more
}

// WriteHealth is what the database's latest writes say about it. It lives
// in memory, where a full disk cannot lose it.
type WriteHealth struct {
	// Err is why the latest write transaction failed, when it failed with a
	// local fault (it wraps ErrStorage); nil once a write succeeds.
	Err error
	// Since is when the writes began to fail.
	Since time.Time
	// Failures counts the write transactions that failed with a local
	// fault since the database was opened.
	Failures int64
}

// ItemFilter selects items for Items and ItemPage.
type ItemFilter struct {
	Tags    []string // items carrying any of these tags; none: every item
	Exclude []string // leave out items carrying any of these tags
	Before  Cursor   // only items after this one in newest-first order
	Limit   int      // at most this many; 0 means 50
	// Search, when set, keeps only the items whose title, summary,
	// content or article match it.
	Search *Search
}

// Cursor is a position in the newest-first order of items, for paging.
type Cursor struct {
	Time int64 // the item's sort time, unix seconds
	ID   int64 // its row id, which breaks ties

	// Story is the item's story, for a StoryPage's Next; it is not part
	// of String's form.
	Story int64
}

// ItemPage is one page of items, newest first.
type ItemPage struct {
	Items []Item
	// Next is where the following page starts; zero on the last page.
	Next Cursor
}

// IsZero reports whether c is the start of the order.
func (c Cursor) IsZero() bool { return c.Time == 0 && c.ID == 0 }

// String is the cursor's form in a URL: "1711454400-42".
func (c Cursor) String() string {
	return strconv.FormatInt(c.Time, 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ParseCursor parses the form String writes.
func ParseCursor(s string) (Cursor, error) {
	t, id, ok := strings.Cut(s, "-")
	c := Cursor{}
	var err1, err2 error
	c.Time, err1 = strconv.ParseInt(t, 10, 64)
	c.ID, err2 = strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || c.Time < 0 || c.ID <= 0 {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	return c, nil
}

// SaveResult says what a SaveItems call changed.
type SaveResult struct {
	Inserted int
	Updated  int
	// New lists the inserted items that are not copies of an article
	// another feed brought first, for story grouping.
	New []NewItem
	// Tags lists, sorted, every tag whose items changed: the tags of inserted
	// and updated items, before and after the update.
	Tags []string
}

// NewItem is an item SaveItems inserted.
type NewItem struct {
	ID  int64 // its row id
	Key string
}

// PageMeta is what an article page says about itself.
type PageMeta struct {
	Categories []string  `json:"categories,omitempty"`
	Author     string    `json:"author,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	Image      string    `json:"image,omitempty"`
}

// PageJob is an item whose page is to be fetched, or applied again.
type PageJob struct {
	ID      int64
	FeedURL string
	Item    Item // as its feed gave it
	Tries   int  // failed attempts so far
	// Reapply says the page is stored (Article, Meta) and only needs to be
	// applied to the item again: the feed changed the item, not its link.
	Reapply bool
	Article string
	Meta    PageMeta
}

// PageUpdate is what a fetched page gives an item.
type PageUpdate struct {
	Article string        // sanitized HTML; empty when the page gave none
	Meta    PageMeta      // as the page said it, kept to apply again
	Extract time.Duration // how long extraction took; 0 when applied again
	// The item with the page applied: its categories, author, times,
	// enclosures and tags.
	Item Item
}

// Retention bounds what the database keeps.
type Retention struct {
	MaxAge          time.Duration // items older than this (by sort time) go; 0: no limit
	MaxItemsPerFeed int           // each feed keeps its newest this many; 0: no limit
}

// PruneResult says what a Prune call removed.
type PruneResult struct {
	Removed    int
	Tombstones int      // expired tombstones removed
	Tags       []string // tags of the removed items, sorted
}

// Story is a group of items that report one event, oldest first.
type Story struct {
	ID    int64 // the id of its first item
	Items []Item
	// Activity is the newest member's time, by which stories are ordered.
	Activity time.Time
}

// StoryPage is one page of stories, newest activity first.
type StoryPage struct {
	Stories []Story
	Next    Cursor // zero on the last page
}

// StorySummary is a story as the index page lists it.
type StorySummary struct {
	Title string // its first report's
	URL   string
	Items int // members in the period
	Story int64
}

// RetagRow is a stored item with what tagging looks at.
type RetagRow struct {
	ID      int64 // the row
	Target  int64 // the row whose tags it sets: itself, or the first copy of its article
	FeedURL string
	Item    Item // Title, Summary, Content, Categories
}
