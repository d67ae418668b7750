package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fetch defaults.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultTLSTimeout     = 10 * time.Second
	DefaultMaxBody        = 10 << 20
	maxRedirects          = 10
)

// Fetcher makes feedmux's HTTP requests to sources: conditional, with an
// honest User-Agent, bounded in time and size. It is safe for concurrent use
// and should be built once: its client keeps connections alive.
type Fetcher struct {
	cfg       FetcherConfig // as given to NewFetcher
	client    *http.Client
	userAgent string
	maxBody   int64

	// Now returns the current time, against which Expires and Retry-After
	// dates are read; tests replace it.
	Now func() time.Time
}

// FetcherConfig holds the settings of a Fetcher; zero values take defaults.
type FetcherConfig struct {
	Timeout        time.Duration // the whole fetch, body included
	ConnectTimeout time.Duration // the TCP connection
	TLSTimeout     time.Duration // the TLS handshake
	HeaderTimeout  time.Duration // from the request sent to the response headers; default Timeout
	MaxBody        int64         // bytes of decoded body
	UserAgent      string
	// Guard, when set, refuses connections to the addresses it does not
	// allow, for fetches on behalf of other people's links. Such a Fetcher
	// uses no proxy: behind one, the guard could not see the address.
	Guard *Guard
}

// Config returns the settings the Fetcher was built with.
func (f *Fetcher) Config() FetcherConfig { return f.cfg }

// Timeout is the longest one fetch may take, body included.
func (f *Fetcher) Timeout() time.Duration { return f.client.Timeout }

// Client is the Fetcher's HTTP client, guarded when its config has a
// Guard: for requests other than fetches, such as a WebSub hub's to its
// subscribers' callbacks.
func (f *Fetcher) Client() *http.Client { return f.client }

// NewFetcher returns a Fetcher with its own tuned HTTP client.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	given := cfg
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = min(DefaultConnectTimeout, cfg.Timeout)
	}
	if cfg.TLSTimeout <= 0 {
		cfg.TLSTimeout = min(DefaultTLSTimeout, cfg.Timeout)
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = cfg.Timeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if cfg.Guard != nil {
		dialer.Control, proxy = cfg.Guard.Control, nil
	}
	transport := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.TLSTimeout,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Fetcher{
		cfg: given,
		client: &http.Client{
			Transport:     transport,
			Timeout:       cfg.Timeout,
			CheckRedirect: checkRedirect,
		},
		userAgent: cfg.UserAgent,
		maxBody:   cfg.MaxBody,
		Now:       time.Now,
	}
}

// redirectTrace follows the redirects of one fetch: the URL reached through
// permanent redirects (301, 308) only, before any temporary one.
type redirectTrace struct {
	permanent string
	temporary bool
}

type traceKey struct{}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if tr, ok := req.Context().Value(traceKey{}).(*redirectTrace); ok && !tr.temporary {
		switch req.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			tr.permanent = req.URL.String()
		default:
			tr.temporary = true
		}
	}
	return nil
}

// Validators are what a server gave to make the next request conditional.
type Validators struct {
	ETag         string
	LastModified string
}

// Response is a source's answer.
type Response struct {
	Status      int
	URL         string // after redirects
	MovedTo     string // where permanent redirects led, when they did
	ContentType string
	Validators  Validators
	// CacheFor is how long the source asks clients to wait before asking
	// again (Cache-Control max-age, else Expires); 0 when it says nothing.
	CacheFor time.Duration
	Links    []string // the Link header values (RFC 8288), where WebSub names a hub
	Body     []byte   // decoded; nil for a 304
}

// StatusError is a source's answer that is neither a success nor a 304.
type StatusError struct {
	Code       int
	RetryAfter time.Duration // from Retry-After on a 429 or 503
}

func (e *StatusError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("HTTP %d %s (retry after %s)", e.Code, http.StatusText(e.Code), e.RetryAfter)
	}
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}

// ErrBodyTooLarge is returned when a body passes the size cap.
var ErrBodyTooLarge = errors.New("body too large")

// Accept headers: what a feed poll and an article page fetch ask for.
const (
	acceptFeed = "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
	acceptPage = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
)

// Fetch gets the feed at rawURL, conditionally on v. A 304 is a Response,
// not an error; any other status outside 2xx is a *StatusError, returned
// with the Response.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, v Validators) (*Response, error) {
	return f.get(ctx, rawURL, acceptFeed, v)
}

// FetchPage gets the web page at rawURL, as Fetch does a feed.
func (f *Fetcher) FetchPage(ctx context.Context, rawURL string) (*Response, error) {
	return f.get(ctx, rawURL, acceptPage, Validators{})
}

func (f *Fetcher) get(ctx context.Context, rawURL, accept string, v Validators) (*Response, error) {
	trace := &redirectTrace{}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, traceKey{}, trace), http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if f.userAgent != "" {
		req.Header.Set("User-Agent", f.userAgent)
	}
	req.Header.Set("Accept", accept)
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		// The URL is the caller's to name; keep what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	now := f.Now()
	r := &Response{
		Status:      resp.StatusCode,
		URL:         resp.Request.URL.String(),
		MovedTo:     trace.permanent,
		ContentType: resp.Header.Get("Content-Type"),
		Validators: Validators{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
		},
		CacheFor: cacheFor(resp.Header, now),
		Links:    resp.Header.Values("Link"),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return r, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Drain a little so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		se := &StatusError{Code: resp.StatusCode}
		if se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable {
			se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		}
		return r, se
	}
	// The transport decodes gzip itself; the cap applies to decoded bytes.
	body, err := readBody(resp, f.maxBody)
	if err != nil {
		return r, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > f.maxBody {
		return r, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, f.maxBody)
	}
	r.Body = body
	return r, nil
}

// PostForm posts form, form-encoded, to rawURL and returns the status of
// the answer, whose body it discards: for requests to WebSub hubs. A status
// outside 2xx is a *StatusError.
func (f *Fetcher) PostForm(ctx context.Context, rawURL string, form url.Values) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if f.userAgent != "" {
		req.Header.Set("User-Agent", f.userAgent)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{Code: resp.StatusCode}
		if se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable {
			se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), f.Now())
		}
		return resp.StatusCode, se
	}
	return resp.StatusCode, nil
}
