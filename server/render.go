package server

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
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
}

// render writes items as a feed in format. Items must be newest first.
func render(format string, ch channel, items []feedmux.Item) ([]byte, error) {
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
	Generator string           `xml:"generator"`
	Entries   []*atomEntry     `xml:"entry"`
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

func renderAtom(ch channel, items []feedmux.Item) ([]byte, error) {
	f := &atomFeed{
		AtomFeed: feeds.AtomFeed{
			Xmlns:    "http://www.w3.org/2005/Atom",
			Title:    ch.Title,
			Id:       ch.ID,
			Updated:  atomTime(ch.Updated),
			Subtitle: ch.Description,
		},
		Links: []feeds.AtomLink{
			{Href: ch.SelfURL, Rel: "self", Type: "application/atom+xml"},
			{Href: ch.HTMLURL, Rel: "alternate", Type: "text/html"},
		},
		Generator: generator,
		Entries:   make([]*atomEntry, 0, len(items)),
	}
	for i := range items {
		it := &items[i]
		e := &atomEntry{AtomEntry: feeds.AtomEntry{
			Title:   displayTitle(it),
			Id:      it.ID(),
			Updated: atomTime(updated(it)),
		}}
		if !it.Published.IsZero() {
			e.Published = atomTime(it.Published)
		}
		if it.URL != "" {
			e.Links = append(e.Links, feeds.AtomLink{Href: it.URL, Rel: "alternate", Type: "text/html"})
		}
		for _, enc := range it.Enclosures {
			e.Links = append(e.Links, feeds.AtomLink{Href: enc.URL, Rel: "enclosure", Type: enc.Type, Length: length(enc)})
		}
		if it.Summary != "" && it.Content != "" {
			e.Summary = &feeds.AtomSummary{Type: "html", Content: it.Summary}
		}
		e.Content = &feeds.AtomContent{Type: "html", Content: body(it)}
		name, email := it.Author, it.Email
		if name == "" {
			name = it.Source.Title
		}
		e.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: name, Email: email}}
		for _, t := range it.Tags {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		e.Source = &atomSource{
			ID:      feedmux.FeedID(it.Source.URL),
			Title:   it.Source.Title,
			Updated: atomTime(updated(it)),
			Links:   []feeds.AtomLink{{Href: it.Source.URL, Rel: "self"}},
		}
		if it.Source.SiteURL != "" {
			e.Source.Links = append(e.Source.Links, feeds.AtomLink{Href: it.Source.SiteURL, Rel: "alternate", Type: "text/html"})
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
	Type string `xml:"type,attr"`
}

type rssItem struct {
	feeds.RssItem
	Creator    string     `xml:"dc:creator,omitempty"`
	Categories []string   `xml:"category"`
	Source     *rssSource `xml:"source"`
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
		},
		AtomLinks: []rssAtomLink{{Href: ch.SelfURL, Rel: "self", Type: "application/rss+xml"}},
		Items:     make([]*rssItem, 0, len(items)),
	}
	for i := range items {
		it := &items[i]
		ri := &rssItem{RssItem: feeds.RssItem{
			Title:       displayTitle(it),
			Link:        it.URL,
			Description: description(it),
			Guid:        &feeds.RssGuid{Id: it.ID(), IsPermaLink: "false"},
			PubDate:     rssTime(it.Time()),
		}}
		if it.Content != "" {
			ri.Content = &feeds.RssContent{Content: it.Content}
		}
		if it.Email != "" {
			ri.Author = it.Email
			if it.Author != "" {
				ri.Author += " (" + it.Author + ")"
			}
		} else {
			ri.Creator = it.Author
		}
		if len(it.Enclosures) > 0 {
			// RSS allows one enclosure per item.
			enc := it.Enclosures[0]
			ri.Enclosure = &feeds.RssEnclosure{Url: enc.URL, Type: mimeType(enc), Length: strconv.FormatInt(enc.Length, 10)}
		}
		ri.Categories = it.Tags
		ri.Source = &rssSource{URL: it.Source.URL, Title: it.Source.Title}
		c.Items = append(c.Items, ri)
	}
	return marshalXML(&rssDoc{
		Version:   "2.0",
		ContentNS: "http://purl.org/rss/1.0/modules/content/",
		AtomNS:    "http://www.w3.org/2005/Atom",
		DCNS:      "http://purl.org/dc/elements/1.1/",
		Channel:   c,
	})
}

type jsonFeed struct {
	feeds.JSONFeed
	Items []*jsonItem `json:"items"`
}

type jsonItem struct {
	feeds.JSONItem
	Feedmux *jsonExtension `json:"_feedmux,omitempty"`
}

// jsonExtension is the _feedmux object of a JSON Feed item: where it came
// from. JSON Feed 1.1 lets publishers add keys that start with "_".
type jsonExtension struct {
	About  string     `json:"about"`
	Source jsonSource `json:"source"`
}

type jsonSource struct {
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
		Items: make([]*jsonItem, 0, len(items)),
	}
	for i := range items {
		it := &items[i]
		ji := &jsonItem{
			JSONItem: feeds.JSONItem{
				Id:          it.ID(),
				Url:         it.URL,
				Title:       displayTitle(it),
				ContentHTML: body(it),
				Tags:        it.Tags,
			},
			Feedmux: &jsonExtension{
				About:  "https://github.com/feedmux/feedmux",
				Source: jsonSource{Title: it.Source.Title, FeedURL: it.Source.URL, HomeURL: it.Source.SiteURL},
			},
		}
		if ji.ContentHTML == "" {
			// JSON Feed requires content_html or content_text.
			ji.ContentText = ji.Title
		}
		if it.Summary != "" && it.Content != "" {
			ji.Summary = plainSummary(it.Summary)
		}
		published, upd := it.Time(), updated(it)
		ji.PublishedDate = &published
		if !upd.Equal(published) {
			ji.ModifiedDate = &upd
		}
		name := it.Author
		if name == "" {
			name = it.Source.Title
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

// body is the item's fullest HTML.
func body(it *feedmux.Item) string {
	if it.Content != "" {
		return it.Content
	}
	return it.Summary
}

// description is the RSS description: the summary, else the content.
func description(it *feedmux.Item) string {
	if it.Summary != "" {
		return it.Summary
	}
	return it.Content
}

// displayTitle is the item's title, or for an untitled item (a Mastodon
// post, say) the start of its text, else its link.
func displayTitle(it *feedmux.Item) string {
	if it.Title != "" {
		return it.Title
	}
	if s := plainSummary(body(it)); s != "" {
		return truncate(s, 80)
	}
	if it.URL != "" {
		return it.URL
	}
	return "Untitled item from " + it.Source.Title
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

func mimeType(e feedmux.Enclosure) string {
	if e.Type != "" {
		return e.Type
	}
	return "application/octet-stream"
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func rssTime(t time.Time) string  { return t.UTC().Format(time.RFC1123Z) }
