package server

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
)

//go:embed index.html
var indexHTML string

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"ago": ago,
}).Parse(indexHTML))

type indexPage struct {
	WriteFault string // see feedsPage
	Base       string
	OPML       string
	All        indexTag
	Tags       []indexTag
	Now        time.Time
}

// indexTag is one topic on the index page.
type indexTag struct {
	feedmux.TagCount
	Title           string
	Atom, RSS, JSON string
	View            string // what the feeds serve: items or stories
	Other           string // the Atom feed of the other view
	OtherView       string
	Spark           template.HTML // items per day
	// Top holds the tag's largest stories of the last day.
	Top []feedmux.StorySummary
}

// handleIndex serves the HTML list of tags with their feeds.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	tags, tokenOK, err := s.visibleTags(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	token, query := "", ""
	if tokenOK {
		token = r.URL.Query().Get("token")
		query = "?" + url.Values{"token": {token}}.Encode()
	}
	top, err := s.db.TopStories(r.Context(), s.Now().Add(-24*time.Hour), 3)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	activity, err := s.db.TagActivity(r.Context(), s.Now(), sparkDays)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	base := s.baseURL(r)
	cfg := s.cfg.Load()
	page := indexPage{Base: base, OPML: base + "/tags.opml" + query, Now: s.Now(), WriteFault: s.writeFault()}
	page.All = indexTag{Title: "feedmux: all", Atom: base + "/all.atom" + query, RSS: base + "/all.rss" + query, JSON: base + "/all.json" + query}
	for _, tc := range tags {
		it := indexTag{TagCount: tc, Title: "feedmux: " + tc.Tag,
			Atom: s.tagFeedURL(base, tc.Tag, formatAtom, token),
			RSS:  s.tagFeedURL(base, tc.Tag, formatRSS, token),
			JSON: s.tagFeedURL(base, tc.Tag, formatJSON, token),
			Top:  top[tc.Tag],
		}
		it.Spark = sparkline(activity[tc.Tag], tc.Tag)
		it.View, it.OtherView = ViewItems, ViewStories
		if cfg.defaultView([]string{tc.Tag}) == ViewStories {
			it.View, it.OtherView = ViewStories, ViewItems
		}
		it.Other = it.Atom + "?view=" + it.OtherView
		if strings.Contains(it.Atom, "?") {
			it.Other = strings.Replace(it.Atom, "?", "?view="+it.OtherView+"&", 1)
		}
		if info := cfg.Tags[tc.Tag]; info.Title != "" {
			it.Title = info.Title
		}
		page.Tags = append(page.Tags, it)
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, page); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeBody(w, "text/html; charset=utf-8", buf.Bytes())
}

// ago says how long before now t was, roughly.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "no items yet"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}
