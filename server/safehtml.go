package server

import (
	"cmp"
	"hash/maphash"
	"html"
	"net/url"
	"strings"
	"sync"

	"github.com/feedmux/feedmux"
)

// safeBody is the item's summary and content as safe HTML, relative URLs
// resolved against its link, else its source, and video frames turned
// into links. Stored HTML was sanitized when it was polled; doing it again
// here applies today's policy to items stored under an older one.
func safeBody(it *feedmux.Item) (summary, content string) {
	summary = safeHTML(it.Summary, it)
	content = safeHTML(it.Content, it)
	if len(it.Also) > 0 {
		// The same article from other feeds: name them all.
		var b strings.Builder
		b.WriteString("<p>Also from ")
		for i, a := range it.Also {
			if i > 0 {
				b.WriteString(", ")
			}
			name := html.EscapeString(cleanString(a.Source.Title))
			if link := cmp.Or(a.URL, a.Source.SiteURL); link != "" {
				b.WriteString(`<a href="` + html.EscapeString(link) + `">` + name + `</a>`)
			} else {
				b.WriteString(name)
			}
		}
		b.WriteString("</p>")
		also := safeHTML(b.String(), it)
		if content == "" {
			content = summary
		}
		content += also
	}
	return summary, content
}

// safeHTML is an item's HTML as output shows it. Items appear in many
// renders (every tag they carry, every page, every format), so results are
// kept, by a hash of the HTML and its base, in a bounded cache.
func safeHTML(h string, it *feedmux.Item) string {
	if h == "" {
		return ""
	}
	baseURL := cmp.Or(it.URL, it.Source.SiteURL, it.Source.URL)
	var mh maphash.Hash
	mh.SetSeed(safeSeed)
	mh.WriteString(baseURL)
	mh.WriteByte(0)
	mh.WriteString(h)
	key := safeKey{hash: mh.Sum64(), n: len(h)}
	safeMu.Lock()
	v, ok := safeCache[key]
	safeMu.Unlock()
	if ok {
		return v
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		base = nil
	}
	v = feedmux.FramesAsLinks(feedmux.SafeHTML(h, base))
	safeMu.Lock()
	if len(safeCache) >= safeCacheSize {
		clear(safeCache) // crude, and rare: a new generation of items
	}
	safeCache[key] = v
	safeMu.Unlock()
	return v
}

type safeKey struct {
	hash uint64
	n    int
}

const safeCacheSize = 20000

var (
	safeSeed  = maphash.MakeSeed()
	safeMu    sync.Mutex
	safeCache = map[safeKey]string{}
)
