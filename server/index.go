package server

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/feedmux/feedmux"
)

//go:embed index.html
var indexHTML string

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"ago": ago,
}).Parse(indexHTML))

type indexPage struct {
	Base string
	Tags []feedmux.TagCount
	Now  time.Time
}

// handleIndex serves the HTML list of tags with their feeds.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	tags, err := s.db.Tags(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := indexPage{Base: s.baseURL(r), Tags: tags, Now: s.Now()}
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
