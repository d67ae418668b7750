package server

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rendered is one output document, ready to send in both encodings.
type rendered struct {
	key      string
	tags     []string // the tags it shows; nil: items of every tag
	body     []byte
	gzOnce   sync.Once
	gzBody   []byte // body, gzipped on the first request that accepts gzip
	etag     string // strong: a hash of body
	modified time.Time
	ctype    string
	link     string // the Link header: the WebSub hub and the self URL
	// status is the answer's status; documents other than 200 (an unknown
	// tag's 404) are cached too, so that asking again costs nothing.
	status int

	at    time.Time // when it was cached, by the cache's clock
	stale bool      // an item of its tags changed; guarded by the cache's mu

	hdrOnce sync.Once
	hdr     docHeaders
}

// docHeaders are the header values of a document's answers, made once so
// that a request from the cache allocates none: each a one-element slice,
// set into the header map as it is.
type docHeaders struct {
	etag, etagGz, lastModified, contentType, length, lengthGz []string
	link                                                      []string // nil: no Link header
}

// headers returns the document's header values; the gzipped form's are
// there once gz has been called.
func (r *rendered) headers() *docHeaders {
	r.hdrOnce.Do(func() {
		r.hdr = docHeaders{
			etag:         []string{r.etag},
			etagGz:       []string{strings.TrimSuffix(r.etag, `"`) + `-gz"`},
			lastModified: []string{r.modified.Format(http.TimeFormat)},
			contentType:  []string{r.ctype},
			length:       []string{strconv.Itoa(len(r.body))},
		}
		if r.link != "" {
			r.hdr.link = []string{r.link}
		}
	})
	return &r.hdr
}

// size counts the gzipped form as a third of the body, compressed or not
// yet, so that the cache's bound does not move when it is made.
func (r *rendered) size() int { return len(r.key) + len(r.body) + len(r.body)/3 + 256 }

// gz is the body gzipped: made once, on the first request that asks for
// it, and then served to every such request.
func (r *rendered) gz() []byte {
	r.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(r.body) / 4)
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(r.body)
		zw.Close()
		r.gzBody = buf.Bytes()
		r.headers().lengthGz = []string{strconv.Itoa(len(r.gzBody))}
	})
	return r.gzBody
}

// newRendered hashes body once, for every request that will be answered
// from it.
func newRendered(key string, tags []string, ctype string, body []byte, modified time.Time) *rendered {
	sum := sha256.Sum256(body)
	return &rendered{
		key: key, tags: tags, ctype: ctype, body: body,
		etag:     `"` + base64.RawURLEncoding.EncodeToString(sum[:15]) + `"`,
		modified: modified.UTC().Truncate(time.Second),
		status:   200,
	}
}

// cache holds rendered documents, least recently used evicted first once
// they take more than max bytes. An entry is dropped when an item of one of
// its tags changes; a render that started before such a change is not
// stored, so a stale document never outlives the change that made it stale.
type cache struct {
	mu       sync.Mutex
	now      func() time.Time
	interval time.Duration // the shortest time between two renders of a document
	max      int
	size     int
	lru      *list.List // of *rendered, most recent first
	entries  map[string]*list.Element
	inflight map[string]*flight

	gen      uint64            // counts invalidations
	changed  map[string]uint64 // tag: gen of its last change
	anyGen   uint64            // gen of the last change of any tag
	purgeGen uint64            // gen of the last purge
}

// flight is a render in progress that later requests for the same key
// wait for instead of rendering again.
type flight struct {
	done chan struct{}
	doc  *rendered
}

func newCache(maxBytes int) *cache {
	return &cache{
		now: time.Now, max: maxBytes, lru: list.New(),
		entries: map[string]*list.Element{}, inflight: map[string]*flight{},
		changed: map[string]uint64{},
	}
}

// get returns the document under key, rendering it with render on a miss;
// concurrent misses for one key render once. hit says whether no render
// was needed.
func (c *cache) get(key string, render func() (*rendered, error)) (doc *rendered, hit bool, err error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		doc := e.Value.(*rendered)
		// A document changed less than interval after it was rendered is
		// served as it is until interval has passed: a burst of changes
		// (a first import) costs one render a second, not one per change.
		if !doc.stale || c.now().Sub(doc.at) < c.interval {
			c.lru.MoveToFront(e)
			c.mu.Unlock()
			return doc, true, nil
		}
		c.remove(e)
	}
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-f.done
		if f.doc != nil {
			return f.doc, true, nil
		}
		return c.get(key, render) // the other render failed: try ourselves
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[key] = f
	gen := c.gen
	c.mu.Unlock()

	doc, err = render()

	c.mu.Lock()
	delete(c.inflight, key)
	if err == nil {
		f.doc = doc
		if c.fresh(doc.tags, gen) {
			doc.at = c.now()
			c.add(doc)
		}
	}
	c.mu.Unlock()
	close(f.done)
	return doc, false, err
}

// fresh reports whether nothing a document of tags depends on changed
// since gen.
func (c *cache) fresh(tags []string, gen uint64) bool {
	if c.purgeGen > gen {
		return false
	}
	if tags == nil {
		return c.anyGen <= gen
	}
	for _, t := range tags {
		if c.changed[t] > gen {
			return false
		}
	}
	return true
}

func (c *cache) add(doc *rendered) {
	if old, ok := c.entries[doc.key]; ok {
		c.remove(old)
	}
	c.entries[doc.key] = c.lru.PushFront(doc)
	c.size += doc.size()
	for c.size > c.max && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
}

func (c *cache) remove(e *list.Element) {
	doc := c.lru.Remove(e).(*rendered)
	delete(c.entries, doc.key)
	c.size -= doc.size()
}

// invalidate drops the documents that show items of tags, or marks stale
// those rendered less than interval ago.
func (c *cache) invalidate(tags []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.anyGen = c.gen
	for _, t := range tags {
		c.changed[t] = c.gen
	}
	now := c.now()
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		doc := e.Value.(*rendered)
		if doc.tags == nil || slices.ContainsFunc(doc.tags, func(t string) bool { return slices.Contains(tags, t) }) {
			if now.Sub(doc.at) < c.interval {
				doc.stale = true // rendered a moment ago: again once interval has passed
			} else {
				c.remove(e)
			}
		}
		e = next
	}
}

// purge drops every document.
func (c *cache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.purgeGen = c.gen
	c.lru.Init()
	clear(c.entries)
	c.size = 0
}

// len is the number of cached documents.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
