package server

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"mime"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedmux/feedmux"
	"github.com/gorilla/feeds"
)

// The output formats and their media types.
const (
	formatRSS  = "rss"
	formatAtom = "atom"
	formatJSON = "json"
)

var contentTypes = map[string]string{
	formatRSS:  "application/rss+xml; charset=utf-8",
	formatAtom: "application/atom+xml; charset=utf-8",
	formatJSON: "application/feed+json; charset=utf-8",
}

const generator = "feedmux"

// channel describes one output feed.
type channel struct {
	Title       string
	Description string
	ID          string    // Atom id
	SelfURL     string    // absolute, as requested, query included
	HTMLURL     string    // absolute URL of the HTML page about the feed
	Updated     time.Time // the newest item's time, or when there is none, now
	FirstURL    string    // the first page (RFC 5005)
	NextURL     string    // the next page of older items; empty on the last
	Now         time.Time // no output time is later
	Version     string    // feedmux's version, for the generator element
	HubURL      string    // the WebSub hub where the feed can be subscribed to
}

// links are the feed's RFC 5005 paging links and its WebSub hub.
func (ch *channel) links() []feeds.AtomLink {
	var links []feeds.AtomLink
	if ch.NextURL != "" || ch.FirstURL != ch.SelfURL {
		links = append(links, feeds.AtomLink{Href: ch.FirstURL, Rel: "first"})
	}
	if ch.NextURL != "" {
		links = append(links, feeds.AtomLink{Href: ch.NextURL, Rel: "next"})
	}
	if ch.HubURL != "" {
		links = append(links, feeds.AtomLink{Href: ch.HubURL, Rel: "hub"})
	}
	return links
}

// clamp keeps t from passing the render time: the validator calls a date
// more than a few minutes ahead implausible, and sources run fast clocks.
func (ch *channel) clamp(t time.Time) time.Time {
	if !ch.Now.IsZero() && t.After(ch.Now) {
		return ch.Now
	}
	return t
}

// entryTimes are the updated times of items in an Atom feed, no two alike:
// the validator warns on a tie, and merged sources tie often. Ties move
// back a second at a time, newest first and in the order of the items' ids
// among equals, so that no time passes the render time and the result
// depends on the items only, not on their order or arrival.
func (ch *channel) entryTimes(items []feedmux.Item) []time.Time {
	times := make([]time.Time, len(items))
	order := make([]int, len(items))
	ids := make([]string, len(items))
	for i := range items {
		times[i] = ch.clamp(updated(&items[i]))
		order[i] = i
		ids[i] = items[i].ID()
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := times[b].Compare(times[a]); c != 0 {
			return c
		}
		return strings.Compare(ids[a], ids[b])
	})
	for k := 1; k < len(order); k++ {
		prev, cur := times[order[k-1]], times[order[k]]
		if !cur.Before(prev) {
			times[order[k]] = prev.Add(-time.Second)
		}
	}
	return times
}

// render writes items as a feed in format. Items must be newest first.
func render(format string, ch channel, items []feedmux.Item) ([]byte, error) {
	items = cleanText(items)
	switch format {
	case formatAtom:
		return renderAtom(ch, items)
	case formatRSS:
		return renderRSS(ch, items)
	default:
		return renderJSON(ch, items)
	}
}
func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// updated is an item's update time, never before its publication time.
func updated(it *feedmux.Item) time.Time {
	if it.Updated.After(it.Time()) {
		return it.Updated
	}
	return it.Time()
}

// displayTitle is the item's title, or for an untitled item (a Mastodon
// post, say) the start of its text, else its link.
func displayTitle(it *feedmux.Item) string {
	if it.Title != "" {
		return it.Title
	}
	if s := plainSummary(cmp.Or(it.Content, it.Summary)); s != "" {
		return truncate(s, 80)
	}
	if it.URL != "" {
		return it.URL
	}
	return "Untitled item from " + it.SourceName()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	cut := strings.LastIndexByte(string(r[:n]), ' ')
	if cut < n/2 {
		return string(r[:n]) + "…"
	}
	return string(r[:n])[:cut] + "…"
}

func length(e feedmux.Enclosure) string {
	if e.Length <= 0 {
		return ""
	}
	return strconv.FormatInt(e.Length, 10)
}

// mimeType is the enclosure's media type when the source gave a valid one,
// else the type its file extension implies, else application/octet-stream.
// Sources write "mp3", "audio" or nothing; validators want type/subtype.
func mimeType(e feedmux.Enclosure) string {
	if t, _, err := mime.ParseMediaType(e.Type); err == nil && strings.Contains(t, "/") {
		return strings.TrimSpace(e.Type)
	}
	if u, err := url.Parse(e.URL); err == nil {
		if t, ok := enclosureTypes[strings.ToLower(path.Ext(u.Path))]; ok {
			return t
		}
	}
	return "application/octet-stream"
}

// enclosureTypes are the media types of common enclosure extensions. A
// table of our own, not mime.TypeByExtension: that one reads the system's
// mime.types, so output would differ between machines.
var enclosureTypes = map[string]string{
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
	".opus": "audio/opus", ".wav": "audio/wav", ".flac": "audio/flac",
	".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime", ".webm": "video/webm", ".ogv": "video/ogg",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".pdf": "application/pdf", ".epub": "application/epub+zip",
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func rssTime(t time.Time) string  { return t.UTC().Format(time.RFC1123Z) }

// cleanText returns copies of items whose plain-text fields hold no
// character XML forbids and no surrounding space. Ingest cleans them too;
// this covers items stored before it did and encoding/xml, which would
// write U+FFFD for them.
func cleanText(items []feedmux.Item) []feedmux.Item {
	out := make([]feedmux.Item, len(items))
	for i, it := range items {
		it.Title = cleanString(it.Title)
		it.Author = cleanString(it.Author)
		if it.Email = cleanString(it.Email); !email.MatchString(it.Email) {
			it.Email = "" // RSS author and Atom email must be addresses
		}
		it.Source.Title = cleanString(it.Source.Title)
		it.Origin.Title = cleanString(it.Origin.Title)
		out[i] = it
	}
	return out
}

var email = regexp.MustCompile(`^[^@\s<>()",;]+@[^@\s<>()",;]+\.[^@\s<>()",;]+$`)

func cleanString(s string) string { return strings.TrimSpace(feedmux.XMLText(s)) }
