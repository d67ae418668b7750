package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Answering a request from a rendered document.

// writeDocument answers r with a rendered 200 document: gzipped when the
// client takes it, 304 when its ETag matches (either encoding's), else
// the body at once with its length; http.ServeContent only for HEAD,
// ranges and If-Modified-Since.
func writeDocument(w http.ResponseWriter, r *http.Request, doc *rendered) {
	h := w.Header()
	hd := doc.headers()
	h["Vary"] = varyEncoding
	if hd.link != nil {
		h["Link"] = hd.link
	}
	gzipped := acceptsGzip(r)
	h["Etag"] = hd.etag
	if gzipped {
		h["Etag"] = hd.etagGz
	}
	if noneMatch := requestHeader(r, "If-None-Match"); noneMatch != "" && matchesETag(noneMatch, doc.etag) {
		// Either encoding's tag names the same content. No Last-Modified:
		// a 304 with an ETag should not carry one (RFC 9110 15.4.5), and
		// http.ServeContent's 304s drop it too.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = hd.contentType
	body, length := doc.body, hd.length
	if gzipped {
		body, length = doc.gz(), hd.lengthGz
		h["Content-Encoding"] = gzipEncoding
	}
	if r.Method == http.MethodGet && requestHeader(r, "Range") == "" && requestHeader(r, "If-Modified-Since") == "" {
		// The common answer, written at once with its length.
		h["Last-Modified"] = hd.lastModified
		h["Content-Length"] = length
		w.Write(body)
		return
	}
	http.ServeContent(w, r, "", doc.modified, bytes.NewReader(body))
}

// requestHeader is r's first value of the header whose canonical name is
// key. net/http canonicalizes the names it reads, so the map is indexed as
// it is, without Header.Get's canonicalizing on every call.
func requestHeader(r *http.Request, key string) string {
	if v := r.Header[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Header values every cached answer shares.
var (
	varyEncoding = []string{"Accept-Encoding"}
	gzipEncoding = []string{"gzip"}
)

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	ae := requestHeader(r, "Accept-Encoding")
	if ae == "" {
		return false
	}
	if !strings.Contains(ae, "q=") && (strings.Contains(ae, "gzip") || strings.Contains(ae, "*")) {
		return true // the usual "gzip, deflate, br": no weights to read
	}
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		params = strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q, ok := strings.CutPrefix(params, "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// matchesETag reports whether an If-None-Match header names etag, in
// either encoding, by the weak comparison RFC 9110 prescribes for it.
func matchesETag(header, etag string) bool {
	if header == etag || strings.TrimSpace(header) == "*" {
		return true
	}
	opaque := strings.Trim(etag, `"`)
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`)
		if t == opaque || len(t) == len(opaque)+len("-gz") && strings.HasPrefix(t, opaque) && strings.HasSuffix(t, "-gz") {
			return true
		}
	}
	return false
}

// cacheControls are the Cache-Control values of output feeds for one
// max-age, public and private.
type cacheControls struct {
	maxAge time.Duration
	values [2][]string
}

// cacheControl is the Cache-Control of output feeds under maxAge, public
// ([0]) and private ([1]), made once for each max-age configured.
func (s *Server) cacheControl(maxAge time.Duration) [2][]string {
	if cc := s.cc.Load(); cc != nil && cc.maxAge == maxAge {
		return cc.values
	}
	age := ", max-age=" + strconv.Itoa(int(maxAge/time.Second))
	cc := &cacheControls{maxAge: maxAge, values: [2][]string{{"public" + age}, {"private" + age}}}
	s.cc.Store(cc)
	return cc.values
}
