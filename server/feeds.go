package server

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/feedmux/feedmux"
)

//go:embed feeds.html
var feedsHTML string

var feedsTemplate = template.Must(template.New("feeds").Funcs(template.FuncMap{
	"ago":       ago,
	"until":     until,
	"stamp":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"pushState": pushState,
	"ms": func(d time.Duration) string {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	},
}).Parse(feedsHTML))

type feedsPage struct {
	// WriteFault, when set, is why nothing is stored now: one banner for
	// the machine's fault, above sources shown as of the last write.
	WriteFault string
	Base       string
	Feeds      []feedmux.FeedState
	Spark      map[string]template.HTML // items per day, by feed URL
	Now        time.Time
	OK         int
	Bad        int
	Gone       int
}

// handleFeeds serves the status of every configured source as HTML.
func (s *Server) handleFeeds(w http.ResponseWriter, r *http.Request) {
	states, err := s.db.FeedStates(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	states = s.hidePrivate(r, states)
	activity, err := s.db.FeedActivity(r.Context(), s.Now(), sparkDays)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := feedsPage{Base: s.baseURL(r), Feeds: states, Now: s.Now(), Spark: map[string]template.HTML{}, WriteFault: s.writeFault()}
	for i := range states {
		page.Spark[states[i].URL] = sparkline(activity[states[i].URL], states[i].Name())
	}
	for i := range states {
		switch states[i].Health() {
		case "ok":
			page.OK++
		case "failing":
			page.Bad++
		default:
			page.Gone++
		}
	}
	var buf bytes.Buffer
	if err := feedsTemplate.Execute(&buf, page); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeBody(w, "text/html; charset=utf-8", buf.Bytes())
}

// feedStatus is one source in /feeds.json.
type feedStatus struct {
	URL           string      `json:"url"`
	CurrentURL    string      `json:"current_url"`
	DiscoveredURL string      `json:"discovered_url,omitempty"`
	Title         string      `json:"title"`
	Tags          []string    `json:"tags"`
	Health        string      `json:"health"`
	LastPoll      *time.Time  `json:"last_poll"`
	LastStatus    int         `json:"last_status"`
	LastError     string      `json:"last_error"`
	Errors        int         `json:"consecutive_errors"`
	NextCheck     *time.Time  `json:"next_check"`
	Items         int         `json:"items"`
	LastNewItem   *time.Time  `json:"last_new_item"`
	PolledBy      string      `json:"polled_by,omitempty"` // the process, when several share the database
	Pages         *pageStatus `json:"pages,omitempty"`
	Push          *pushStatus `json:"push,omitempty"`
}

// pushStatus is what /feeds.json says of a source's WebSub subscription.
type pushStatus struct {
	Hub       string     `json:"hub"`
	Topic     string     `json:"topic"`
	State     string     `json:"state"` // subscribing, active, denied, expired
	LeaseEnd  *time.Time `json:"lease_end"`
	LastError string     `json:"last_error"`
	Pushes    int        `json:"pushes"`
	Rejected  int        `json:"rejected"`
	LastPush  *time.Time `json:"last_push"`
}

func pushOf(st *feedmux.FeedState, now time.Time) *pushStatus {
	p := st.Push
	if p.Hub == "" {
		return nil
	}
	return &pushStatus{Hub: p.Hub, Topic: p.Topic, State: pushState(p, now), LeaseEnd: timePtr(p.LeaseEnd),
		LastError: p.LastError, Pushes: p.Pushes, Rejected: p.Rejected, LastPush: timePtr(p.LastPush)}
}

// pushState is a subscription's state as /feeds shows it: an active one
// whose lease ended (a renewal not verified in time) is "expired".
func pushState(p feedmux.Push, now time.Time) string {
	if p.State == feedmux.PushActive && !p.Active(now) {
		return "expired"
	}
	return p.State
}

// pageStatus is what /feeds.json says of a full_content feed's pages.
type pageStatus struct {
	Fetched   int     `json:"fetched"`
	Failed    int     `json:"failed"`
	Waiting   int     `json:"waiting"`
	ExtractMS float64 `json:"extract_ms"` // mean time to extract one
}

func pagesOf(st *feedmux.FeedState) *pageStatus {
	pc := st.Pages
	if pc.Fetched+pc.Failed+pc.Waiting == 0 {
		return nil
	}
	return &pageStatus{pc.Fetched, pc.Failed, pc.Waiting, float64(pc.Extract.Microseconds()) / 1000}
}

// handleFeedsJSON serves the status of every configured source as JSON.
func (s *Server) handleFeedsJSON(w http.ResponseWriter, r *http.Request) {
	states, err := s.db.FeedStates(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	states = s.hidePrivate(r, states)
	out := make([]feedStatus, 0, len(states))
	for i := range states {
		st := &states[i]
		cur := st.CurrentURL
		if cur == "" {
			cur = st.URL
		}
		out = append(out, feedStatus{
			URL: st.URL, CurrentURL: cur, DiscoveredURL: st.DiscoveredURL, Title: st.Name(),
			Tags: nonNil(st.Tags), Health: st.Health(), LastPoll: timePtr(st.LastPoll),
			LastStatus: st.LastStatus, LastError: st.LastError, Errors: st.Errors,
			NextCheck: timePtr(st.NextCheck), Items: st.Items, LastNewItem: timePtr(st.LastNewItem), PolledBy: st.PolledBy,
			Pages: pagesOf(st), Push: pushOf(st, s.Now()),
		})
	}
	doc := map[string]any{"feeds": out, "storage": map[string]any{"writable": true}}
	if h := s.db.WriteHealth(); h.Err != nil {
		doc["storage"] = map[string]any{"writable": false, "error": h.Err.Error(), "since": h.Since.UTC()}
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeBody(w, "application/json; charset=utf-8", append(body, '\n'))
}

func writeBody(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// until says how long after now t is, roughly.
func until(now, t time.Time) string {
	if t.IsZero() || !t.After(now) {
		return "due now"
	}
	d := t.Sub(now)
	switch {
	case d < time.Minute:
		return "in " + strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return "in " + strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return "in " + strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return "in " + strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// hidePrivate removes private tags from feed states, unless the request
// carries the token.
func (s *Server) hidePrivate(r *http.Request, states []feedmux.FeedState) []feedmux.FeedState {
	cfg := s.cfg.Load()
	if len(cfg.PrivateTags) == 0 || cfg.tokenOK(r.URL.Query().Get("token")) {
		return states
	}
	for i := range states {
		states[i].Tags = slices.DeleteFunc(slices.Clone(states[i].Tags), func(t string) bool {
			return slices.Contains(cfg.PrivateTags, t)
		})
	}
	return states
}
