package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// bareServer is the yardstick of serving: a plain net/http server holding
// the bytes feedmux serves at url (its body, its gzip form prepared at
// start, its ETag and Content-Type: the very bytes feedmux sends), answering 200, gzip and 304 as feedmux
// does. Nothing can serve the same document faster in Go.
type bareServer struct {
	srv               *http.Server
	URL               string
	body, gz          []byte
	etag, contentType string
}

func newBareServer(url string) (*bareServer, error) {
	plain, h, err := fetchForm(url, "")
	if err != nil {
		return nil, err
	}
	gz, _, err := fetchForm(url, "gzip")
	if err != nil {
		return nil, err
	}
	b := &bareServer{body: plain, gz: gz, etag: h.Get("ETag"), contentType: h.Get("Content-Type")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.URL = "http://" + ln.Addr().String() + "/tags/t0.atom"
	b.srv = &http.Server{Handler: b}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == b.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", b.contentType)
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		w.Write(b.gz)
		return
	}
	w.Write(b.body)
}

func (b *bareServer) close() { b.srv.Close() }

// fetchForm gets url as it is sent, in the given Content-Encoding.
func fetchForm(url, encoding string) ([]byte, http.Header, error) {
	req, _ := http.NewRequest("GET", url, nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.Header.Get("Content-Encoding") != encoding {
		err = fmt.Errorf("GET %s: Content-Encoding %q, want %q", url, resp.Header.Get("Content-Encoding"), encoding)
	}
	return body, resp.Header, err
}
