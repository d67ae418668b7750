package server

import (
	"bytes"
	"cmp"
	"encoding/json"

	"github.com/feedmux/feedmux"
	"github.com/gorilla/feeds"
)

// As the Atom types do (atom.go), these embed gorilla/feeds' and shadow
// the fields it gets wrong.
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
