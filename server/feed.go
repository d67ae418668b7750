package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
)

// feedRequest is a parsed request for an output feed.
type feedRequest struct {
	tags   []string // sorted, without repeats; nil: every item (/all)
	format string
	limit  int
	before feedmux.Cursor
	token  bool // the request carries the right token
	// stories asks for one entry per story (?view=stories).
	stories bool
	// search, when its Match is set, keeps the items that match it.
	search *feedmux.Search // nil: not a search
}

// handleTag serves /tags/{tag}.{format} and /tags/{a}+{b}.{format}.
func (s *Server) handleTag(w http.ResponseWriter, r *http.Request) {
	name, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	tags := strings.Split(name, "+")
	for _, t := range tags {
		if !feedmux.ValidTag(t) {
			http.Error(w, fmt.Sprintf("%q is not a tag: tags are lower-case words joined by hyphens", t), http.StatusNotFound)
			return
		}
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) > maxTags {
		http.Error(w, fmt.Sprintf("at most %d tags in one feed", maxTags), http.StatusBadRequest)
		return
	}
	s.serveFeed(w, r, feedRequest{tags: tags, format: format})
}

// handleAll serves /all.{format}.
func (s *Server) handleAll(w http.ResponseWriter, r *http.Request) {
	_, format, _ := splitFormat(strings.TrimPrefix(r.URL.Path, "/"))
	s.serveFeed(w, r, feedRequest{format: format})
}

// serveFeed answers a request for the feed that req's tags, format and
// search name; the rest of req comes from the query string.
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, req feedRequest) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	hit := s.feed(rec, r, req)
	s.Metrics.observeRequest(req.format, rec.status, hit)
}

// query is r's query: nil, which reads as empty, for the usual request
// without one (url.URL.Query makes a map every time).
func query(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// feed answers a request for an output feed and reports whether the
// render cache answered it.
func (s *Server) feed(w http.ResponseWriter, r *http.Request, req feedRequest) (hit bool) {
	cfg := s.cfg.Load()
	tags, format := req.tags, req.format
	if msg := readQuery(cfg, query(r), &req); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	private := false
	for _, t := range tags {
		if slices.Contains(cfg.PrivateTags, t) {
			private = true
		}
	}
	if private && !req.token {
		// Answered like a tag that does not exist, so that the name of a
		// private tag cannot be confirmed by guessing.
		http.Error(w, "unknown tag", http.StatusNotFound)
		return
	}
	base := s.baseURL(r)
	key := format + " " + base + r.URL.RequestURI()
	doc, cached, err := s.cache.get(key, func() (*rendered, error) {
		return s.renderFeed(r, cfg, req, key, base)
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	hit = cached
	h := w.Header()
	if doc.status != http.StatusOK {
		h.Set("Cache-Control", "no-cache")
		http.Error(w, string(doc.body), doc.status)
		return
	}
	cc := s.cacheControl(cfg.MaxAge)
	if private || (tags == nil && len(cfg.PrivateTags) > 0 && req.token) {
		h["Cache-Control"] = cc[1]
	} else {
		h["Cache-Control"] = cc[0]
	}
	writeDocument(w, r, doc)
	return hit
}

// readQuery sets what the query string asks of req (token, limit, view,
// before) and returns what is wrong with it, if anything.
func readQuery(cfg *Config, q url.Values, req *feedRequest) string {
	req.token = cfg.tokenOK(q.Get("token"))
	var err error
	if req.limit, err = parseLimit(q.Get("limit")); err != nil {
		return err.Error()
	}
	view := q.Get("view")
	if view == "" {
		view = cfg.defaultView(req.tags)
		if req.search != nil {
			view = ViewItems
		}
	}
	if view == ViewStories && req.search != nil {
		return "a search serves items only: view=stories is not offered"
	}
	switch view {
	case ViewItems:
	case ViewStories:
		req.stories = true
	default:
		return "view must be items or stories"
	}
	if b := q.Get("before"); b != "" {
		if req.before, err = feedmux.ParseCursor(b); err != nil {
			return "before must be a cursor from a next link"
		}
	}
	return ""
}

// renderFeed reads a page of items and renders it.
func (s *Server) renderFeed(r *http.Request, cfg *Config, req feedRequest, key, base string) (*rendered, error) {
	filter := feedmux.ItemFilter{Tags: req.tags, Limit: req.limit, Before: req.before, Search: req.search}
	if req.tags == nil && !req.token {
		filter.Exclude = cfg.PrivateTags
	}
	var (
		page feedmux.ItemPage
		err  error
	)
	if req.stories {
		var sp feedmux.StoryPage
		sp, err = s.db.StoryPage(r.Context(), filter)
		page.Next = sp.Next
		for _, st := range sp.Stories {
			page.Items = append(page.Items, storyItem(st))
		}
	} else {
		page, err = s.db.ItemPage(r.Context(), filter)
	}
	if errors.Is(err, feedmux.ErrUnknownTag) {
		doc := &rendered{key: key, tags: req.tags, body: []byte("unknown tag"), status: http.StatusNotFound}
		return doc, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	ch := feedChannel(r, cfg, req, base, now)
	q := r.URL.Query()
	q.Del("before")
	path := base + r.URL.Path
	ch.FirstURL = pageURL(path, q)
	if !page.Next.IsZero() {
		q.Set("before", page.Next.String())
		ch.NextURL = pageURL(path, q)
	}
	items := page.Items
	if !req.token && len(cfg.PrivateTags) > 0 {
		items = hideTags(items, cfg.PrivateTags)
	}
	modified := time.Time{}
	for i := range items {
		it := &items[i]
		modified = latest(modified, updated(it), it.FirstSeen)
	}
	if len(items) > 0 {
		ch.Updated = ch.clamp(modified)
	} else {
		modified = now
	}
	body, err := render(req.format, ch, items)
	if err != nil {
		return nil, err
	}
	doc := newRendered(key, req.tags, contentTypes[req.format], body, ch.clamp(modified))
	doc.link = "<" + ch.HubURL + `>; rel="hub", <` + ch.SelfURL + `>; rel="self"`
	return doc, nil
}

// hideTags returns items without the tags in hidden, for readers without
// the token: a public item may also carry a private tag.
func hideTags(items []feedmux.Item, hidden []string) []feedmux.Item {
	out := slices.Clone(items)
	for i := range out {
		out[i].Tags = slices.DeleteFunc(slices.Clone(out[i].Tags), func(t string) bool {
			return slices.Contains(hidden, t)
		})
	}
	return out
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// tokenOK reports whether token opens the private tags, in constant time.
func (c *Config) tokenOK(token string) bool {
	return c.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(c.Token)) == 1
}

// pageURL is a link to path with the query q.
func pageURL(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
