package server

import (
	"cmp"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
)

// What an output feed says about itself, and the entry of a story.

// feedChannel describes the feed req asks for: its title, description,
// id and links.
func feedChannel(r *http.Request, cfg *Config, req feedRequest, base string, now time.Time) channel {
	ch := channel{
		Title:       "feedmux: all",
		Description: "The newest items of every source",
		ID:          feedmux.TagFeedID("all"),
		SelfURL:     base + r.URL.RequestURI(),
		HTMLURL:     base + "/",
		Updated:     now,
		Now:         now,
		Version:     cfg.Version,
		HubURL:      cfg.hubURL(base),
	}
	if req.stories {
		ch.Title = "feedmux: all stories"
		ch.Description = "One entry per story: the same event from every source, newest activity first"
		ch.ID = feedmux.TagFeedID("all/stories")
	}
	if req.tags != nil {
		name := strings.Join(req.tags, "+")
		ch.ID = feedmux.TagFeedID("tags/" + name)
		ch.Title = "feedmux: " + strings.Join(req.tags, " + ")
		ch.Description = "The newest items tagged " + strings.Join(req.tags, " or ") + ", from every source"
		if info, ok := cfg.Tags[name]; ok && len(req.tags) == 1 {
			if info.Title != "" {
				ch.Title = info.Title
			}
			if info.Description != "" {
				ch.Description = info.Description
			}
		}
		ch.HTMLURL = base + "/#tag-" + url.PathEscape(req.tags[0])
		if req.stories {
			ch.ID = feedmux.TagFeedID("tags/" + name + "/stories")
			ch.Title += " (stories)"
			ch.Description = "One entry per story tagged " + strings.Join(req.tags, " or ") +
				": the same event from every source, newest activity first"
		}
	}
	if req.search != nil {
		searchChannel(&ch, req)
	}
	return ch
}

// storyItem is the entry of a story: titled and linked by its first
// report, its content a list of every member's headline, link and source,
// updated when a member joins.
func storyItem(st feedmux.Story) feedmux.Item {
	first := st.Items[0]
	it := feedmux.Item{
		Key: "story:" + first.Key, URL: first.URL, Title: first.Title,
		Published: first.Time(), Source: first.Source, FirstSeen: first.FirstSeen,
	}
	sources := map[string]bool{}
	var b strings.Builder
	b.WriteString("<ul>")
	// A report names its source; the sources are counted by publisher, so
	// that an aggregator's copy of an outlet's report is not a second one.
	item := func(link, title, source, publisher string) {
		b.WriteString("<li>")
		if link != "" {
			b.WriteString(`<a href="` + html.EscapeString(link) + `">` + html.EscapeString(title) + "</a>")
		} else {
			b.WriteString(html.EscapeString(title))
		}
		b.WriteString(" — " + html.EscapeString(source) + "</li>")
		sources[publisher] = true
	}
	reports := 0
	for i := range st.Items {
		m := &st.Items[i]
		item(m.URL, displayTitle(m), m.SourceName(), cmp.Or(m.Origin.Title, m.Source.Title))
		reports++
		for _, a := range m.Also {
			item(a.URL, displayTitle(m), a.Source.Title, cmp.Or(a.Origin.Title, a.Source.Title))
			reports++
		}
		it.Updated = latest(it.Updated, updated(m), m.FirstSeen)
		it.Tags = append(it.Tags, m.Tags...)
	}
	b.WriteString("</ul>")
	slices.Sort(it.Tags)
	it.Tags = slices.Compact(it.Tags)
	it.Content = b.String()
	it.Summary = fmt.Sprintf("%d reports from %d sources", reports, len(sources))
	if reports == 1 {
		it.Summary = "1 report from " + first.SourceName()
	}
	return it
}
