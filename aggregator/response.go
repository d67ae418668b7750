package aggregator

// What a source's answer says beyond its status: how long it may be
// cached, when to ask again, and its body.

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheFor reads how long a response may be cached: Cache-Control max-age,
// else Expires. no-cache and no-store ask for nothing.
func cacheFor(h http.Header, now time.Time) time.Duration {
	if cc := h.Get("Cache-Control"); cc != "" {
		for _, d := range strings.Split(cc, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n > 0 {
					return time.Duration(min(n, 1<<32)) * time.Second
				}
			}
		}
	}
	if exp := h.Get("Expires"); exp != "" {
		if t, err := http.ParseTime(exp); err == nil {
			if date, err := http.ParseTime(h.Get("Date")); err == nil {
				now = date // measure against the server's clock
			}
			return max(t.Sub(now), 0)
		}
	}
	return 0
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(min(n, 1<<32), 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// readBody reads up to max+1 bytes of resp's body, into a buffer of the
// size its Content-Length gives when it gives one (io.ReadAll's growing
// allocated two to three times a feed's size).
func readBody(resp *http.Response, max int64) ([]byte, error) {
	n := resp.ContentLength
	if n <= 0 || n > max {
		return io.ReadAll(io.LimitReader(resp.Body, max+1))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		return nil, err
	}
	// A body longer than it said is read on, as far as the cap.
	rest, err := io.ReadAll(io.LimitReader(resp.Body, max+1-n))
	if len(rest) > 0 {
		body = append(body, rest...)
	}
	return body, err
}
