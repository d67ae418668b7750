// Package server serves feedmux's output: one merged feed per tag in RSS 2.0,
// Atom 1.0 and JSON Feed 1.1, an HTML index of the tags, and health checks.
// It reads from storage and never polls.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// Output limits.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxTags      = 20 // in one combined feed: /tags/a+b+c.atom
	// defaultCacheBytes bounds the memory the rendered documents take.
	defaultCacheBytes = 64 << 20
)

// Store is what the server reads. *storage.DB is one; tests wrap it to
// count queries.
type Store interface {
	ItemPage(ctx context.Context, filter feedmux.ItemFilter) (feedmux.ItemPage, error)
	StoryPage(ctx context.Context, filter feedmux.ItemFilter) (feedmux.StoryPage, error)
	TopStories(ctx context.Context, since time.Time, per int) (map[string][]feedmux.StorySummary, error)
	Tags(ctx context.Context) ([]feedmux.TagCount, error)
	FeedStates(ctx context.Context) ([]feedmux.FeedState, error)
	Ping(ctx context.Context) error
	TagActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error)
	FeedActivity(ctx context.Context, now time.Time, days int) (map[string][]int, error)
	WriteHealth() feedmux.WriteHealth
}

// Config is what the output depends on besides the stored items.
type Config struct {
	// BaseURL is the public URL of the service, used for self links; when
	// empty it is taken from each request.
	BaseURL string
	// MaxAge is the max-age of output feeds in Cache-Control.
	MaxAge time.Duration
	// PrivateTags are served only with ?token= equal to Token.
	PrivateTags []string
	Token       string
	// Tags holds the configured title and description of tags.
	Tags map[string]TagInfo
	// Version is written in the generator element of output feeds.
	Version string
	// RenderInterval is the shortest time between two renders of one
	// document: a change shows within it. 0 renders after every change.
	RenderInterval time.Duration
	// Hub is the WebSub hub every output feed names: an external hub's
	// URL, or "" for the built-in one at {base}/websub.
	Hub string
}

// HubPath is where the built-in WebSub hub is served.
const HubPath = "/websub"

// hubURL is the hub output feeds name, for documents served under base.
func (c *Config) hubURL(base string) string {
	if c.Hub != "" {
		return c.Hub
	}
	return base + HubPath
}

// TagInfo is the configured title and description of a tag's feed.
type TagInfo struct {
	Title       string
	Description string
	// View is what the tag's feeds serve when a request does not say:
	// "items" (also for "") or "stories", one entry per story.
	View string
}

// Views of a feed.
const (
	ViewItems   = "items"
	ViewStories = "stories"
)

// defaultView is the view of a feed of tags whose request names none:
// stories when every tag has them by default, else items.
func (c *Config) defaultView(tags []string) string {
	if len(tags) == 0 {
		return ViewItems
	}
	for _, t := range tags {
		if c.Tags[t].View != ViewStories {
			return ViewItems
		}
	}
	return ViewStories
}

// DefaultMaxAge is the Cache-Control max-age of output feeds.
const DefaultMaxAge = time.Minute

// DefaultRenderInterval is the shortest time between two renders of one
// output feed.
const DefaultRenderInterval = time.Second

// Server is feedmux's HTTP server.
type Server struct {
	db    Store
	log   *slog.Logger
	srv   *http.Server
	ln    net.Listener
	cfg   atomic.Pointer[Config]
	cc    atomic.Pointer[cacheControls] // the Cache-Control values of the configured max-age
	cache *cache
	mux   *http.ServeMux

	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Ready, when set, says whether the daemon has done its first poll
	// cycle, for /readyz.
	Ready func() bool
	// Metrics, when set, is served at /metrics and counts requests.
	Metrics *Metrics
}

// New returns a Server that reads from db.
func New(db Store, log *slog.Logger) *Server {
	s := &Server{db: db, log: log.With("component", "server"), Now: time.Now, cache: newCache(defaultCacheBytes)}
	s.cfg.Store(&Config{MaxAge: DefaultMaxAge})
	s.cache.now = s.now
	s.mux = http.NewServeMux()
	s.routes()
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// Configure replaces the server's configuration; requests in flight finish
// with the old one. Every cached document is dropped.
func (s *Server) Configure(cfg Config) {
	if cfg.MaxAge < 0 {
		cfg.MaxAge = 0
	}
	cfg.PrivateTags = slices.Clone(cfg.PrivateTags)
	s.cfg.Store(&cfg)
	s.cache.mu.Lock()
	s.cache.interval = max(cfg.RenderInterval, 0)
	s.cache.now = s.now
	s.cache.mu.Unlock()
	s.cache.purge()
}

// Config returns the configuration the server serves with.
func (s *Server) Config() Config { return *s.cfg.Load() }

// now is the server's clock, read through Now so tests can replace it
// after New.
func (s *Server) now() time.Time { return s.Now() }

// Purge drops every cached document, when what changed is not known
// (another process's notification was lost).
func (s *Server) Purge() { s.cache.purge() }

// Invalidate drops the cached documents that show items of tags. The
// poller calls it after a poll added, changed or removed items.
func (s *Server) Invalidate(tags []string) {
	s.cache.invalidate(tags)
}

// Handler returns the HTTP handler of every route, those added with
// Handle included.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle adds a route of another part of feedmux, as net/http's
// ServeMux.Handle does: cmd/feedmux mounts the poller's WebSub callbacks
// with it. A pattern that conflicts with a route panics.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// routes registers the server's own routes.
func (s *Server) routes() {
	mux := s.mux
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /tags/{file}", s.handleTag)
	mux.HandleFunc("GET /tags.opml", s.handleOPML)
	for _, f := range []string{formatRSS, formatAtom, formatJSON} {
		mux.HandleFunc("GET /all."+f, s.handleAll)
		mux.HandleFunc("GET /search."+f, s.handleSearch)
	}
	mux.HandleFunc("GET /feeds", s.handleFeeds)
	mux.HandleFunc("GET /feeds.json", s.handleFeedsJSON)
	mux.HandleFunc("GET /feeds.opml", s.handleFeedsOPML)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.Metrics.handler().ServeHTTP(w, r)
	})
}

// handleReady answers 200 once the database answers and the first poll
// cycle is done, 503 with the reason before, and 503 while the database
// cannot be written: nothing new is stored then.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("not ready: database", "error", err)
		http.Error(w, "not ready: the database does not answer", http.StatusServiceUnavailable)
		return
	}
	if fault := s.writeFault(); fault != "" {
		http.Error(w, "not ready: "+fault, http.StatusServiceUnavailable)
		return
	}
	if s.Ready != nil && !s.Ready() {
		http.Error(w, "not ready: the first poll cycle is not done", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// writeFault says why the database cannot be written and since when, or
// "" while it can: the one sentence /readyz, / and /feeds show for it.
func (s *Server) writeFault() string {
	h := s.db.WriteHealth()
	if h.Err == nil {
		return ""
	}
	return fmt.Sprintf("%v (since %s); nothing new is stored and polling is paused until it can be written",
		h.Err, h.Since.UTC().Format(time.RFC3339))
}

// splitFormat splits "middle-east.atom" into its name and format.
func splitFormat(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return "", "", false
	}
	name, format = file[:i], file[i+1:]
	_, ok = contentTypes[format]
	return name, format, ok
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("limit must be a number from 1 to %d", maxLimit)
	}
	return n, nil
}

// baseURL is the configured public URL, else the scheme and host the
// request came to.
func (s *Server) baseURL(r *http.Request) string { return BaseURL(s.cfg.Load().BaseURL, r) }

// BaseURL is configured (a [server] base_url) without its final slash, or
// when it is empty the scheme and host r came to: the base of every URL
// feedmux names in its answer to r.
func BaseURL(configured string, r *http.Request) string {
	if configured != "" {
		return strings.TrimSuffix(configured, "/")
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// internalError answers 500 and logs the cause; the client sees no detail.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
