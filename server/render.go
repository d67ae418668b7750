package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"hash/maphash"
	"html"
	"mime"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// gorilla/feeds writes one category per item, no self link, a source without
// its url, an RSS author that is not an e-mail address and an empty updated
// element for undated entries, and it invents random ids. Our types embed
// its exported ones and shadow the fields it gets wrong: encoding/xml and
// encoding/json both let the shallower field win.

type atomFeed struct {
	feeds.AtomFeed
	Links     []feeds.AtomLink `xml:"link"`
	Generator atomGenerator    `xml:"generator"`
	Entries   []*atomEntry     `xml:"entry"`
}

type atomGenerator struct {
	URI     string `xml:"uri,attr"`
	Version string `xml:"version,attr,omitempty"`
	Name    string `xml:",chardata"`
}

type atomEntry struct {
	feeds.AtomEntry
	Categories []atomCategory `xml:"category"`
	Source     *atomSource    `xml:"source"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomSource struct {
	ID      string           `xml:"id"`
	Title   string           `xml:"title"`
	Updated string           `xml:"updated"`
	Links   []feeds.AtomLink `xml:"link"`
}

const projectURL = "https://github.com/feedmux/feedmux"

func renderAtom(ch channel, items []feedmux.Item) ([]byte, error) {
	f := &atomFeed{
		AtomFeed: feeds.AtomFeed{
			Xmlns:    "http://www.w3.org/2005/Atom",
			Title:    ch.Title,
			Id:       ch.ID,
			Updated:  atomTime(ch.Updated),
			Subtitle: ch.Description,
		},
		Links: append([]feeds.AtomLink{
			{Href: ch.SelfURL, Rel: "self", Type: "application/atom+xml"},
			{Href: ch.HTMLURL, Rel: "alternate", Type: "text/html"},
		}, ch.links()...),
		Generator: atomGenerator{URI: projectURL, Version: ch.Version, Name: generator},
		Entries:   make([]*atomEntry, 0, len(items)),
	}
	times := ch.entryTimes(items)
	for i := range items {
		it := &items[i]
		e := &atomEntry{AtomEntry: feeds.AtomEntry{
			Title:   displayTitle(it),
			Id:      it.ID(),
			Updated: atomTime(times[i]),
		}}
		if !it.Published.IsZero() {
			e.Published = atomTime(ch.clamp(it.Published))
		}
		if it.URL != "" {
			e.Links = append(e.Links, feeds.AtomLink{Href: it.URL, Rel: "alternate", Type: "text/html"})
		}
		for _, enc := range it.Enclosures {
			e.Links = append(e.Links, feeds.AtomLink{Href: enc.URL, Rel: "enclosure", Type: mimeType(enc), Length: length(enc)})
		}
		summary, content := safeBody(it)
		if summary != "" && content != "" {
			e.Summary = &feeds.AtomSummary{Type: "html", Content: summary}
		}
		e.Content = &feeds.AtomContent{Type: "html", Content: cmp.Or(content, summary)}
		name, email := it.Author, it.Email
		if name == "" {
			name = it.SourceName()
		}
		e.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: name, Email: email}}
		for _, t := range it.Tags {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		e.Source = &atomSource{
			ID:      feedmux.FeedID(it.Source.URL),
			Title:   it.SourceName(),
			Updated: atomTime(times[i]),
			Links:   []feeds.AtomLink{{Href: it.Source.URL, Rel: "self"}},
		}
		if site := cmp.Or(it.Origin.SiteURL, it.Source.SiteURL); site != "" {
			e.Source.Links = append(e.Source.Links, feeds.AtomLink{Href: site, Rel: "alternate", Type: "text/html"})
		}
		f.Entries = append(f.Entries, e)
	}
	return marshalXML(f)
}

type rssDoc struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	ContentNS string      `xml:"xmlns:content,attr"`
	AtomNS    string      `xml:"xmlns:atom,attr"`
	DCNS      string      `xml:"xmlns:dc,attr"`
	MediaNS   string      `xml:"xmlns:media,attr,omitempty"`
	Channel   *rssChannel `xml:"channel"`
}

type rssChannel struct {
	feeds.RssFeed
	AtomLinks []rssAtomLink `xml:"atom:link"`
	Items     []*rssItem    `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	feeds.RssItem
	Link       string     `xml:"link,omitempty"`
	Creator    string     `xml:"dc:creator,omitempty"`
	Categories []string   `xml:"category"`
	Media      []rssMedia `xml:"media:content"`
	Source     *rssSource `xml:"source"`
}

// rssMedia carries the enclosures after the first: RSS allows one.
type rssMedia struct {
	URL      string `xml:"url,attr"`
	Type     string `xml:"type,attr,omitempty"`
	FileSize int64  `xml:"fileSize,attr,omitempty"`
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

func renderRSS(ch channel, items []feedmux.Item) ([]byte, error) {
	c := &rssChannel{
		RssFeed: feeds.RssFeed{
			Title:         ch.Title,
			Link:          ch.HTMLURL,
			Description:   ch.Description,
			LastBuildDate: rssTime(ch.Updated),
			Generator:     generator,
			Docs:          "https://www.rssboard.org/rss-specification",
		},
		AtomLinks: []rssAtomLink{{Href: ch.SelfURL, Rel: "self", Type: "application/rss+xml"}},
		Items:     make([]*rssItem, 0, len(items)),
	}
	for _, l := range ch.links() {
		typ := "application/rss+xml"
		if l.Rel == "hub" {
			typ = ""
		}
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: l.Href, Rel: l.Rel, Type: typ})
	}
	doc := &rssDoc{
		Version:   "2.0",
		ContentNS: "http://purl.org/rss/1.0/modules/content/",
		AtomNS:    "http://www.w3.org/2005/Atom",
		DCNS:      "http://purl.org/dc/elements/1.1/",
		Channel:   c,
	}
	for i := range items {
		it := &items[i]
		summary, content := safeBody(it)
		ri := &rssItem{RssItem: feeds.RssItem{
			Title:       displayTitle(it),
			Description: cmp.Or(summary, content),
			Guid:        &feeds.RssGuid{Id: it.ID(), IsPermaLink: "false"},
			PubDate:     rssTime(ch.clamp(it.Time())),
		}}
		ri.Link = it.URL
		if summary != "" && content != "" {
			ri.Content = &feeds.RssContent{Content: content}
		}
		if it.Email != "" {
			ri.Author = it.Email
			if it.Author != "" {
				ri.Author += " (" + it.Author + ")"
			}
		} else {
			ri.Creator = it.Author
		}
		for k, enc := range it.Enclosures {
			if k == 0 {
				ri.Enclosure = &feeds.RssEnclosure{Url: enc.URL, Type: mimeType(enc), Length: strconv.FormatInt(enc.Length, 10)}
				continue
			}
			ri.Media = append(ri.Media, rssMedia{URL: enc.URL, Type: mimeType(enc), FileSize: enc.Length})
			doc.MediaNS = "http://search.yahoo.com/mrss/"
		}
		ri.Categories = it.Tags
		ri.Source = &rssSource{URL: it.Source.URL, Title: it.SourceName()}
		c.Items = append(c.Items, ri)
	}
	return marshalXML(doc)
}

type jsonFeed struct {
	feeds.JSONFeed
	NextURL string      `json:"next_url,omitempty"`
	Items   []*jsonItem `json:"items"`
}

type jsonItem struct {
	feeds.JSONItem
	Feedmux *jsonExtension `json:"_feedmux,omitempty"`
}

// jsonExtension is the _feedmux object of a JSON Feed item: where it came
// from. JSON Feed 1.1 lets publishers add keys that start with "_".
type jsonExtension struct {
	About  string       `json:"about"`
	Source jsonSource   `json:"source"`
	Also   []jsonSource `json:"also,omitempty"` // other feeds that carry the same article
}

type jsonSource struct {
	URL     string `json:"url,omitempty"` // the article's link at this source
	Title   string `json:"title"`
	FeedURL string `json:"feed_url"`
	HomeURL string `json:"home_page_url,omitempty"`
}

func renderJSON(ch channel, items []feedmux.Item) ([]byte, error) {
	f := &jsonFeed{
		JSONFeed: feeds.JSONFeed{
			Version:     "https://jsonfeed.org/version/1.1",
			Title:       ch.Title,
			HomePageUrl: ch.HTMLURL,
			FeedUrl:     ch.SelfURL,
			Description: ch.Description,
		},
		NextURL: ch.NextURL,
		Items:   make([]*jsonItem, 0, len(items)),
	}
	if ch.HubURL != "" {
		f.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: ch.HubURL}}
	}
	for i := range items {
		it := &items[i]
		summary, content := safeBody(it)
		ji := &jsonItem{
			JSONItem: feeds.JSONItem{
				Id:          it.ID(),
				Url:         it.URL,
				Title:       displayTitle(it),
				ContentHTML: cmp.Or(content, summary),
				Tags:        it.Tags,
			},
			Feedmux: &jsonExtension{
				About:  projectURL,
				Source: jsonSource{Title: it.SourceName(), FeedURL: it.Source.URL, HomeURL: cmp.Or(it.Origin.SiteURL, it.Source.SiteURL)},
			},
		}
		for _, a := range it.Also {
			ji.Feedmux.Also = append(ji.Feedmux.Also, jsonSource{Title: cleanString(a.Source.Title), FeedURL: a.Source.URL, HomeURL: a.Source.SiteURL, URL: a.URL})
		}
		if ji.ContentHTML == "" {
			// JSON Feed requires content_html or content_text.
			ji.ContentText = ji.Title
		}
		if summary != "" && content != "" {
			ji.Summary = plainSummary(summary)
		}
		published, upd := ch.clamp(it.Time()), ch.clamp(updated(it))
		ji.PublishedDate = &published
		if !upd.Equal(published) {
			ji.ModifiedDate = &upd
		}
		name := it.Author
		if name == "" {
			name = it.SourceName()
		}
		ji.Authors = []*feeds.JSONAuthor{{Name: name}}
		for _, enc := range it.Enclosures {
			ji.Attachments = append(ji.Attachments, feeds.JSONAttachment{Url: enc.URL, MIMEType: mimeType(enc), Size: int32(min(enc.Length, 1<<31-1))})
		}
		f.Items = append(f.Items, ji)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// safeBody is the item's summary and content as safe HTML, relative URLs
// resolved against its link, else its source, and video frames turned
// into links. Stored HTML was sanitized when it was polled; doing it again
// here applies today's policy to items stored under an older one.
func safeBody(it *feedmux.Item) (summary, content string) {
	summary = safeHTML(it.Summary, it)
	content = safeHTML(it.Content, it)
	if len(it.Also) > 0 {
		// The same article from other feeds: name them all.
		var b strings.Builder
		b.WriteString("<p>Also from ")
		for i, a := range it.Also {
			if i > 0 {
				b.WriteString(", ")
			}
			name := html.EscapeString(cleanString(a.Source.Title))
			if link := cmp.Or(a.URL, a.Source.SiteURL); link != "" {
				b.WriteString(`<a href="` + html.EscapeString(link) + `">` + name + `</a>`)
			} else {
				b.WriteString(name)
			}
		}
		b.WriteString("</p>")
		also := safeHTML(b.String(), it)
		if content == "" {
			content = summary
		}
		content += also
	}
	return summary, content
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

// safeHTML is an item's HTML as output shows it. Items appear in many
// renders (every tag they carry, every page, every format), so results are
// kept, by a hash of the HTML and its base, in a bounded cache.
func safeHTML(h string, it *feedmux.Item) string {
	if h == "" {
		return ""
	}
	baseURL := cmp.Or(it.URL, it.Source.SiteURL, it.Source.URL)
	var mh maphash.Hash
	mh.SetSeed(safeSeed)
	mh.WriteString(baseURL)
	mh.WriteByte(0)
	mh.WriteString(h)
	key := safeKey{hash: mh.Sum64(), n: len(h)}
	safeMu.Lock()
	v, ok := safeCache[key]
	safeMu.Unlock()
	if ok {
		return v
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		base = nil
	}
	v = feedmux.FramesAsLinks(feedmux.SafeHTML(h, base))
	safeMu.Lock()
	if len(safeCache) >= safeCacheSize {
		clear(safeCache) // crude, and rare: a new generation of items
	}
	safeCache[key] = v
	safeMu.Unlock()
	return v
}

type safeKey struct {
	hash uint64
	n    int
}

const safeCacheSize = 20000

var (
	safeSeed  = maphash.MakeSeed()
	safeMu    sync.Mutex
	safeCache = map[safeKey]string{}
)
