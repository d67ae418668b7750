package feedmux

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrUnknownTag means no configured feed and no stored item carries the tag.
	ErrUnknownTag = errors.New("unknown tag")
	// ErrFeedNotFound means the feed is neither configured nor stored.
	ErrFeedNotFound = errors.New("feed not found")
	// ErrUnknownCallback means no WebSub subscription has the callback id.
	ErrUnknownCallback = errors.New("unknown callback")
	// ErrStorage means the database could not take a write for a reason of
	// the machine's: a full disk, a read-only file system, an I/O error,
	// the configured size limit. It is never a source's fault.
	ErrStorage = errors.New("the database cannot be written")
)

// MinInterval is the shortest polling interval a feed may be configured with.
const MinInterval = time.Second

// Feed is a source feed as the operator configured it. The URL is the feed's
// identity: state, items and output ids all hang off it, even after the
// source redirects permanently elsewhere.
type Feed struct {
	URL        string        // as written in the configuration
	Title      string        // overrides the feed's own title when set
	Tags       []string      // tag slugs every item of the feed carries
	Interval   time.Duration // how often to poll
	Categories bool          // whether the items' own categories become tags
	Include    []string      // when set, only items matching one of these words or phrases are kept
	Exclude    []string      // items matching one of these words or phrases are dropped

	// FullContent says each new item's page is fetched and its article
	// becomes the item's content.
	FullContent bool
	// Scrape, when set, makes an HTML listing page at URL the source of
	// items, instead of a feed.
	Scrape *Scrape `json:",omitempty"`
	// Remove are CSS selectors of the elements dropped from items' content
	// (and articles) before they are stored.
	Remove []string `json:",omitempty"`
	// TitleReplace are RE2 replacements applied to titles, in order:
	// {pattern, replacement}.
	TitleReplace [][2]string `json:",omitempty"`
}

// Scrape says how to read items from an HTML listing page: Items selects
// each item's element, and inside it the others select text, or an
// attribute after "@" ("a@href"). Title and Link are needed.
type Scrape struct {
	Items   string
	Title   string
	Link    string
	Date    string
	Summary string
}

// Validate reports the first thing wrong with f.
func (f *Feed) Validate() error {
	if err := ValidateFeedURL(f.URL); err != nil {
		return err
	}
	for _, t := range f.Tags {
		if !ValidTag(t) {
			return fmt.Errorf("invalid tag %q (want %q)", t, TagSlug(t))
		}
	}
	if f.Interval < MinInterval {
		return fmt.Errorf("interval %s is shorter than %s", f.Interval, MinInterval)
	}
	return nil
}

// ValidateFeedURL reports whether s is an absolute http or https URL.
func ValidateFeedURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid url %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q has no host", s)
	}
	return nil
}

// FeedState is what feedmux has learnt about a source feed by polling it. It
// survives restarts: the schedule and the HTTP validators live in storage.
type FeedState struct {
	URL           string // the configured URL, the feed's key
	CurrentURL    string // where it is polled now: after permanent redirects, or the discovered feed
	DiscoveredURL string // the feed an HTML page at URL links to, when URL is a page
	Title         string // the title the source gives itself
	SiteURL       string // the source's home page
	ETag          string
	LastModified  string
	LastPoll      time.Time
	NextCheck     time.Time // zero: due now
	LastStatus    int       // HTTP status of the last poll, 0 when none was received
	LastError     string    // empty after a successful poll
	Errors        int       // consecutive failed polls
	Gone          bool      // the source answered 410 Gone; not polled until its configuration changes
	Items         int       // items stored
	LastNewItem   time.Time
	// PolledBy is the process that made the last poll, on a database
	// several processes share; "" otherwise.
	PolledBy string
	Pages    PageCounts // the article pages of its items (full_content)
	// Push is the feed's WebSub subscription, zero when it has none
	// (its Secret is never filled in here).
	Push Push

	// From the configuration, read back with the state.
	ConfigTitle string
	Tags        []string
}

// PageCounts counts the article pages of a feed's stored items.
type PageCounts struct {
	Fetched, Failed, Waiting int
	Extract                  time.Duration // mean time to extract one
}

// Name is what the feed is called: its configured title, else its own, else
// its URL.
func (st *FeedState) Name() string {
	switch {
	case st.ConfigTitle != "":
		return st.ConfigTitle
	case st.Title != "":
		return st.Title
	}
	return st.URL
}

// Health says how a feed is doing: "ok", "failing" or "gone".
func (st *FeedState) Health() string {
	switch {
	case st.Gone:
		return "gone"
	case st.Errors > 0:
		return "failing"
	}
	return "ok"
}

// Item is one entry of a source feed, normalized. Key identifies it within
// its feed; ID identifies it everywhere (see ItemID).
type Item struct {
	Key        string
	GUID       string
	URL        string
	Title      string // plain text
	Summary    string // HTML
	Content    string // HTML
	Author     string // a name
	Email      string // the author's e-mail address, when the source gave one
	Categories []string
	Tags       []string // tag slugs, sorted
	Enclosures []Enclosure
	Published  time.Time // zero when the source gave none
	Updated    time.Time // zero when the source gave none

	// Set when the item is read back from storage.
	FirstSeen time.Time
	Source    Source
	// Also names the other sources that carry the same article (the same
	// canonical URL); the item is stored and shown once, under Source.
	Also []Also
	// Origin is the publisher an aggregator's item names as the article's
	// (Google News's <source>, Bing's News:Source): its Title and SiteURL.
	// Zero for an item that comes from its publisher.
	Origin Source
}

// SourceName names where an item comes from, as a reader shows it: the
// source's title, or for an aggregator's item its publisher "via" the
// aggregator.
func (it *Item) SourceName() string {
	if it.Origin.Title != "" && it.Origin.Title != it.Source.Title {
		return it.Origin.Title + " via " + it.Source.Title
	}
	return it.Source.Title
}

// Also is another source of an item, with its link to the article.
type Also struct {
	Source Source
	URL    string
	Origin Source // the publisher, when the copy is an aggregator's (see Item.Origin)
}

// Time is the moment an item is sorted by: its publication time, else its
// update time, else when feedmux first saw it.
func (it *Item) Time() time.Time {
	switch {
	case !it.Published.IsZero():
		return it.Published
	case !it.Updated.IsZero():
		return it.Updated
	}
	return it.FirstSeen
}

// ID is the item's stable output id.
func (it *Item) ID() string { return ItemID(it.Source.URL, it.Key) }

// Source names the feed an item came from.
type Source struct {
	URL     string // the configured feed URL
	Title   string // the configured title, else the feed's own
	SiteURL string // the source's home page, may be empty
}

// Enclosure is a media file attached to an item (a podcast episode, say).
type Enclosure struct {
	URL    string
	Type   string
	Length int64 // bytes; 0 when unknown
}

// TagCount is a tag with the number of items that carry it.
type TagCount struct {
	Tag     string
	Items   int
	Updated time.Time // the newest item's time; zero when there is none
}

// HealthCounts counts feeds by health: ok, failing, gone (each present,
// zero or not).
func HealthCounts(states []FeedState) map[string]int {
	out := map[string]int{"ok": 0, "failing": 0, "gone": 0}
	for i := range states {
		out[states[i].Health()]++
	}
	return out
}
