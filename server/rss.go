package server

import (
	"cmp"
	"encoding/xml"
	"strconv"

	"github.com/feedmux/feedmux"
	"github.com/gorilla/feeds"
)

// As the Atom types do (atom.go), these embed gorilla/feeds' and shadow
// the fields it gets wrong.
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
