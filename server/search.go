package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/feedmux/feedmux"
)

// handleSearch serves /search.{format}?q=...: the items that match a
// full-text query, newest first, paged, cached and made private like a
// tag's feed. &tag= restricts it to one tag. A query that does not parse
// is a 400 that says why (feedmux.ParseSearch).
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	_, format, _ := splitFormat(strings.TrimPrefix(r.URL.Path, "/"))
	q := r.URL.Query()
	search, err := feedmux.ParseSearch(q.Get("q"))
	if err != nil {
		http.Error(w, "q: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := feedRequest{format: format, search: &search}
	if tag := q.Get("tag"); tag != "" {
		if !feedmux.ValidTag(tag) {
			http.Error(w, fmt.Sprintf("%q is not a tag: tags are lower-case words joined by hyphens", tag), http.StatusNotFound)
			return
		}
		req.tags = []string{tag}
	}
	s.serveFeed(w, r, req)
}

// searchChannel titles a search's feed and gives it an id of its own: the
// same for every way of writing the same query (feedmux.Search.Normal).
func searchChannel(ch *channel, req feedRequest) {
	quoted := "“" + req.search.Normal + "”"
	ch.Title = "feedmux: search " + quoted
	ch.Description = "The newest items that match " + quoted + ", from every source"
	name := "search/" + req.search.Normal
	if len(req.tags) == 1 {
		ch.Title += " in " + req.tags[0]
		ch.Description = "The newest items tagged " + req.tags[0] + " that match " + quoted + ", from every source"
		// A NUL is in no normal query, so no query without a tag has
		// the id of one with.
		name += "\x00tag/" + req.tags[0]
	}
	ch.ID = feedmux.TagFeedID(name)
}
