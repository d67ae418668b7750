package server

import (
	"encoding/xml"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/feedmux/feedmux"
)

// opml is an OPML 2.0 document.
type opml struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Head    opmlHead      `xml:"head"`
	Body    []opmlOutline `xml:"body>outline"`
}

type opmlHead struct {
	Title       string `xml:"title"`
	DateCreated string `xml:"dateCreated,omitempty"`
	DocsURL     string `xml:"docs"`
}

type opmlOutline struct {
	Type    string `xml:"type,attr"`
	Text    string `xml:"text,attr"`
	Title   string `xml:"title,attr"`
	XMLURL  string `xml:"xmlUrl,attr"`
	HTMLURL string `xml:"htmlUrl,attr,omitempty"`
}

// visibleTags returns the tags the request may see: the private ones only
// with the token.
func (s *Server) visibleTags(r *http.Request) ([]feedmux.TagCount, bool, error) {
	cfg := s.cfg.Load()
	tags, err := s.db.Tags(r.Context())
	if err != nil {
		return nil, false, err
	}
	token := cfg.tokenOK(r.URL.Query().Get("token"))
	if !token {
		tags = slices.DeleteFunc(tags, func(tc feedmux.TagCount) bool {
			return slices.Contains(cfg.PrivateTags, tc.Tag)
		})
	}
	return tags, token, nil
}

// tagFeedURL is the URL of a tag's feed in format, with the token when the
// tag needs it.
func (s *Server) tagFeedURL(base, tag, format string, token string) string {
	u := base + "/tags/" + url.PathEscape(tag) + "." + format
	if token != "" && slices.Contains(s.cfg.Load().PrivateTags, tag) {
		u += "?" + url.Values{"token": {token}}.Encode()
	}
	return u
}

// handleOPML serves every tag's Atom feed as an OPML 2.0 subscription list.
func (s *Server) handleOPML(w http.ResponseWriter, r *http.Request) {
	tags, tokenOK, err := s.visibleTags(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	token := ""
	if tokenOK {
		token = r.URL.Query().Get("token")
	}
	base := s.baseURL(r)
	doc := opml{Version: "2.0", Head: opmlHead{Title: "feedmux topics", DocsURL: "https://opml.org/spec2.opml"}}
	cfg := s.cfg.Load()
	for _, tc := range tags {
		title := "feedmux: " + tc.Tag
		if info := cfg.Tags[tc.Tag]; info.Title != "" {
			title = info.Title
		}
		doc.Body = append(doc.Body, opmlOutline{
			Type: "rss", Text: title, Title: title,
			XMLURL:  s.tagFeedURL(base, tc.Tag, formatAtom, token),
			HTMLURL: base + "/#tag-" + url.PathEscape(tc.Tag),
		})
	}
	body, err := marshalXML(doc)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="feedmux-topics.opml"`)
	writeBody(w, "text/x-opml; charset=utf-8", body)
}

// opmlFolder is a tag's outline in /feeds.opml, holding its feeds.
type opmlFolder struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

// handleFeedsOPML serves the configured source feeds as OPML 2.0, one
// folder per tag (a feed with several tags is in each), untagged feeds at
// the top. Private tags are left out without the token.
func (s *Server) handleFeedsOPML(w http.ResponseWriter, r *http.Request) {
	states, err := s.db.FeedStates(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	cfg := s.cfg.Load()
	token := cfg.tokenOK(r.URL.Query().Get("token"))
	folders := map[string][]opmlOutline{}
	var loose []opmlOutline
	for i := range states {
		st := &states[i]
		o := opmlOutline{Type: "rss", Text: st.Name(), Title: st.Name(), XMLURL: st.URL, HTMLURL: st.SiteURL}
		for _, t := range st.Tags {
			if slices.Contains(cfg.PrivateTags, t) && !token {
				continue
			}
			folders[t] = append(folders[t], o)
		}
		if len(st.Tags) == 0 {
			loose = append(loose, o)
		}
	}
	type doc struct {
		XMLName xml.Name `xml:"opml"`
		Version string   `xml:"version,attr"`
		Head    opmlHead `xml:"head"`
		Body    []any    `xml:"body>outline"`
	}
	d := doc{Version: "2.0", Head: opmlHead{Title: "feedmux sources", DocsURL: "https://opml.org/spec2.opml"}}
	for _, t := range slices.Sorted(maps.Keys(folders)) {
		d.Body = append(d.Body, opmlFolder{Text: t, Title: t, Outlines: folders[t]})
	}
	for _, o := range loose {
		d.Body = append(d.Body, o)
	}
	body, err := marshalXML(d)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="feedmux-sources.opml"`)
	writeBody(w, "text/x-opml; charset=utf-8", body)
}
