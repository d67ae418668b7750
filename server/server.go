// Package server serves feedmux's output: one merged feed per tag in RSS 2.0,
// Atom 1.0 and JSON Feed 1.1, an HTML index of the tags, and health checks.
// It reads from storage and never polls.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage"
)

// Output limits.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// Server is feedmux's HTTP server.
type Server struct {
	db  *storage.DB
	log *slog.Logger
	srv *http.Server
	ln  net.Listener

	// BaseURL is the public URL of the service, used for self links; when
	// empty it is taken from each request.
	BaseURL string
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// New returns a Server that reads from db.
func New(db *storage.DB, log *slog.Logger) *Server {
	s := &Server{db: db, log: log.With("component", "server"), Now: time.Now}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /tags/{file}", s.handleTag)
	for _, f := range []string{formatRSS, formatAtom, formatJSON} {
		mux.HandleFunc("GET /all."+f, s.handleAll)
	}
	mux.HandleFunc("GET /feeds", s.handleFeeds)
	mux.HandleFunc("GET /feeds.json", s.handleFeedsJSON)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	return mux
}

// Listen opens the listening socket, so that a bad address fails at once.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr is the address Listen opened.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves on the listener opened by Listen until Shutdown; it returns
// nil after a Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for the requests in
// flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}

// handleTag serves /tags/{tag}.{format}.
func (s *Server) handleTag(w http.ResponseWriter, r *http.Request) {
	tag, format, ok := splitFormat(r.PathValue("file"))
	if !ok || !feedmux.ValidTag(tag) {
		http.NotFound(w, r)
		return
	}
	s.serveFeed(w, r, tag, format)
}

// handleAll serves /all.{format}.
func (s *Server) handleAll(w http.ResponseWriter, r *http.Request) {
	_, format, _ := splitFormat(strings.TrimPrefix(r.URL.Path, "/"))
	s.serveFeed(w, r, "", format)
}

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, tag, format string) {
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	items, err := s.db.Items(r.Context(), storage.ItemFilter{Tag: tag, Limit: limit})
	if errors.Is(err, feedmux.ErrUnknownTag) {
		http.Error(w, "unknown tag", http.StatusNotFound)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	base := s.baseURL(r)
	ch := channel{
		Title:       "feedmux: all",
		Description: "The newest items of every source",
		ID:          feedmux.TagFeedID("all"),
		SelfURL:     base + r.URL.RequestURI(),
		HTMLURL:     base + "/",
		Updated:     s.Now().UTC().Truncate(time.Second),
	}
	if tag != "" {
		ch.Title = "feedmux: " + tag
		ch.Description = "The newest items tagged " + tag + ", from every source"
		ch.ID = feedmux.TagFeedID("tags/" + tag)
		ch.HTMLURL = base + "/#tag-" + tag
	}
	if len(items) > 0 {
		ch.Updated = updated(&items[0])
		for i := range items {
			if u := updated(&items[i]); u.After(ch.Updated) {
				ch.Updated = u
			}
		}
	}
	body, err := render(format, ch, items)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeBody(w, contentTypes[format], body)
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
func (s *Server) baseURL(r *http.Request) string {
	if s.BaseURL != "" {
		return strings.TrimSuffix(s.BaseURL, "/")
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
