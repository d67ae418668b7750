package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Fetcher limits.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMaxBody = 10 << 20
	maxRedirects   = 10
)

// Fetcher makes feedmux's HTTP requests to sources: conditional, with an
// honest User-Agent, bounded in time and size. It is safe for concurrent use
// and should be built once: its client keeps connections alive.
type Fetcher struct {
	client    *http.Client
	userAgent string
	maxBody   int64
}

// FetcherConfig holds the settings of a Fetcher; zero values take defaults.
type FetcherConfig struct {
	Timeout   time.Duration // the whole fetch, body included
	MaxBody   int64         // bytes of decoded body
	UserAgent string
}

// NewFetcher returns a Fetcher with its own tuned HTTP client.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	step := min(cfg.Timeout, 10*time.Second)
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: step, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   step,
		ResponseHeaderTimeout: cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Fetcher{
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= maxRedirects {
					return fmt.Errorf("stopped after %d redirects", maxRedirects)
				}
				return nil
			},
		},
		userAgent: cfg.UserAgent,
		maxBody:   cfg.MaxBody,
	}
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
	ContentType string
	Validators  Validators
	Body        []byte // decoded; nil for a 304
}

// StatusError is a source's answer that is neither a success nor a 304.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}

// ErrBodyTooLarge is returned when a body passes the size cap.
var ErrBodyTooLarge = errors.New("body too large")

// Fetch gets rawURL, conditionally on v. A 304 is a Response, not an error.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, v Validators) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if f.userAgent != "" {
		req.Header.Set("User-Agent", f.userAgent)
	}
	req.Header.Set("Accept", "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
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
	r := &Response{
		Status:      resp.StatusCode,
		URL:         resp.Request.URL.String(),
		ContentType: resp.Header.Get("Content-Type"),
		Validators: Validators{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
		},
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return r, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return r, &StatusError{Code: resp.StatusCode}
	}
	// The transport decodes gzip itself; the cap applies to decoded bytes.
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		return r, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > f.maxBody {
		return r, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, f.maxBody)
	}
	r.Body = body
	return r, nil
}
