package servertest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// ServedEntries reads an output feed of feedmux's (format "atom", "rss" or
// "json") field by field, as feedmux meant it: the reference that what
// readers make of the same document is compared with. Dates are RFC 3339
// in UTC; the author is a name.
func ServedEntries(format string, doc []byte) ([]Entry, error) {
	switch format {
	case "atom":
		return servedAtom(doc)
	case "rss":
		return servedRSS(doc)
	case "json":
		return servedJSON(doc)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

func servedAtom(doc []byte) ([]Entry, error) {
	var f struct {
		Entries []struct {
			Title     string `xml:"title"`
			ID        string `xml:"id"`
			Published string `xml:"published"`
			Updated   string `xml:"updated"`
			Links     []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
			Author string `xml:"author>name"`
			Source string `xml:"source>title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(doc, &f); err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range f.Entries {
		en := Entry{Title: e.Title, ID: e.ID, Published: utc(time.RFC3339, e.Published), Updated: utc(time.RFC3339, e.Updated),
			Author: e.Author, Source: e.Source}
		for _, l := range e.Links {
			switch {
			case l.Rel == "alternate" && en.Link == "":
				en.Link = l.Href
			case l.Rel == "enclosure" && en.Enclosure == "":
				en.Enclosure = l.Href
			}
		}
		out = append(out, en)
	}
	return out, nil
}

func servedRSS(doc []byte) ([]Entry, error) {
	var f struct {
		Items []struct {
			Title     string `xml:"title"`
			Link      string `xml:"link"`
			GUID      string `xml:"guid"`
			PubDate   string `xml:"pubDate"`
			Author    string `xml:"author"`
			Creator   string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Source    string `xml:"source"`
			Enclosure struct {
				URL string `xml:"url,attr"`
			} `xml:"enclosure"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(doc, &f); err != nil {
		return nil, err
	}
	var out []Entry
	for _, it := range f.Items {
		author := it.Creator
		if it.Author != "" { // "e-mail (Name)", as RSS wants it
			author = it.Author
			if _, name, ok := strings.Cut(it.Author, " ("); ok {
				author = strings.TrimSuffix(name, ")")
			}
		}
		out = append(out, Entry{Title: it.Title, Link: it.Link, ID: it.GUID, Published: utc(time.RFC1123Z, it.PubDate),
			Author: author, Source: it.Source, Enclosure: it.Enclosure.URL})
	}
	return out, nil
}

func servedJSON(doc []byte) ([]Entry, error) {
	var f struct {
		Items []struct {
			ID        string `json:"id"`
			URL       string `json:"url"`
			Title     string `json:"title"`
			Published string `json:"date_published"`
			Modified  string `json:"date_modified"`
			Authors   []struct {
				Name string `json:"name"`
			} `json:"authors"`
			Feedmux struct {
				Source struct {
					Title string `json:"title"`
				} `json:"source"`
			} `json:"_feedmux"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		return nil, err
	}
	var out []Entry
	for _, it := range f.Items {
		en := Entry{Title: it.Title, Link: it.URL, ID: it.ID, Published: utc(time.RFC3339, it.Published),
			Updated: utc(time.RFC3339, it.Modified), Source: it.Feedmux.Source.Title}
		if len(it.Authors) > 0 {
			en.Author = it.Authors[0].Name
		}
		out = append(out, en)
	}
	return out, nil
}

// utc rewrites a date of the layout as RFC 3339 in UTC; "" when absent or
// unreadable.
func utc(layout, s string) string {
	t, err := time.Parse(layout, strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
