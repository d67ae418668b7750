package server

import (
	"cmp"

	"github.com/feedmux/feedmux"
	"github.com/gorilla/feeds"
)

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
