package aggregator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/mmcdole/gofeed"
)

// fetched is what one fetch brought.
type fetched struct {
	items   []feedmux.Item
	memo    *itemMemo // the source items seen, for unchanged once stored
	bytes   int
	floor   time.Duration // the shortest wait the source asked for
	warning string
	// read says a feed document was read, so hub and topic say whether it
	// names a WebSub hub (hub "": it names none).
	read       bool
	hub, topic string
}

// document is one body of a feed: a source's answer to a poll, or a
// content distribution its hub pushed.
type document struct {
	body        []byte
	contentType string
	url         string   // where it comes from: links resolve against it
	links       []string // its HTTP Link headers
	pushed      bool     // a hub pushed it: not a page to discover a feed in
}

// fetch gets the feed from where it is polled now, follows an HTML page to
// the feed it announces (once: the discovered URL is remembered), parses,
// and updates st from the answer: status, validators, permanent moves,
// title. It returns no items for a 304.
func (p *Poller) fetch(ctx context.Context, feed feedmux.Feed, st *feedmux.FeedState) (fetched, error) {
	target := feed.URL
	if st.CurrentURL != "" {
		target = st.CurrentURL
	}
	var f fetched
	fetcher := p.fetcher.Load()
	resp, err := fetcher.Fetch(ctx, target, Validators{ETag: st.ETag, LastModified: st.LastModified})
	st.LastStatus = 0
	if resp != nil {
		st.LastStatus = resp.Status
		if resp.MovedTo != "" {
			st.CurrentURL = resp.MovedTo
			if resp.MovedTo == feed.URL {
				st.CurrentURL = ""
			}
		}
		f.floor = resp.CacheFor
	}
	if err != nil {
		return f, err
	}
	if resp.Status == http.StatusNotModified {
		// A 304 may refresh the validators.
		if resp.Validators.ETag != "" {
			st.ETag = resp.Validators.ETag
		}
		if resp.Validators.LastModified != "" {
			st.LastModified = resp.Validators.LastModified
		}
		return f, nil
	}
	f.bytes = len(resp.Body)
	d := document{body: resp.Body, contentType: resp.ContentType, url: resp.URL, links: resp.Links}
	discovered, err := p.read(ctx, feed, st, target, d, &f)
	if discovered {
		return p.fetch(ctx, feed, st) // the discovered feed's fetch takes a CPU slot of its own
	}
	if err != nil {
		return f, err
	}
	st.ETag, st.LastModified = resp.Validators.ETag, resp.Validators.LastModified
	return f, nil
}

// read turns one document of a feed into its items: it unpacks stray
// gzip, decodes the charset, parses (a scrape page, or a feed, with
// discovery and salvage), normalizes and tags the items into f, and
// reads the WebSub hub the document names. It updates st's title, site
// and, for a polled document, what readFeed records. Polls and pushes
// both read through it: a pushed body is treated exactly as a polled one.
func (p *Poller) read(ctx context.Context, feed feedmux.Feed, st *feedmux.FeedState, target string, d document, f *fetched) (discovered bool, err error) {
	// Parsing and sanitizing are the CPU-heavy part of a poll: at most one
	// poll per core does it at once, so that the polls in flight do not
	// hold their bodies half-parsed together. (Half the cores, as before,
	// made a warm pass parse-bound on one core at 1.4-1.6x the floor, and
	// bought serving no measurable latency: see BENCHMARKS.md.)
	select {
	case p.cpu <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-p.cpu }()
	base, err := url.Parse(d.url)
	if err != nil {
		return false, err
	}
	var doc *gofeed.Feed
	if feed.Scrape != nil {
		var body []byte
		if body, err = decodeBody(d.body, d.contentType, p.fetcher.Load().maxBody); err != nil {
			return false, err
		}
		if doc, err = scrapePage(body, base, feed.Scrape); err != nil {
			st.ETag, st.LastModified = "", "" // as for a feed that does not parse
			err = fmt.Errorf("%w: %w", errParse, err)
		}
	} else {
		doc, discovered, err = p.readFeed(feed, st, target, d, base, f)
		if discovered {
			return true, nil
		}
	}
	if err != nil {
		return false, err
	}
	st.Title = plainText(doc.Title)
	st.SiteURL = absURL(base, doc.Link)
	f.floor = max(f.floor, docFloor(doc))
	f.items, f.memo = p.normalize(feed, doc, base)
	return false, nil
}

// readFeed reads a document as a feed (decodeFeed). An HTML page that
// announces a feed makes that feed the one polled (discovered: fetch
// again); a malformed document gives the items that can be read, with a
// warning in f. A body with nothing to read is a parse error, and clears
// the validators so that the next poll fetches it again instead of a 304
// hiding that it is still broken.
func (p *Poller) readFeed(feed feedmux.Feed, st *feedmux.FeedState, target string, d document,
	base *url.URL, f *fetched) (doc *gofeed.Feed, discovered bool, err error) {
	body, doc, warning, err := decodeFeed(d.body, d.contentType, p.fetcher.Load().maxBody)
	var perr *parseError
	if !errors.As(err, &perr) && err != nil {
		return nil, false, err
	}
	if (perr != nil || warning != "") && looksLikeHTML(body, d.contentType) {
		// A page, not a broken feed: what salvage made of it is not read.
		if d.pushed {
			return nil, false, fmt.Errorf("%w: the pushed document is an HTML page, not a feed", errParse)
		}
		if st.DiscoveredURL != "" && target == st.DiscoveredURL {
			// The page's feed turned into a page itself: look again next time.
			st.CurrentURL, st.DiscoveredURL = "", ""
			return nil, false, errors.New("not a feed: the discovered feed link now answers with an HTML page")
		}
		links := feedLinks(body, base)
		if len(links) == 0 {
			return nil, false, errors.New("not a feed: HTML page without feed links")
		}
		st.DiscoveredURL, st.CurrentURL = links[0], links[0]
		st.ETag, st.LastModified = "", ""
		p.log.Info("feed discovered", "feed", feed.URL, "discovered", links[0])
		return nil, true, nil
	}
	if perr != nil {
		st.ETag, st.LastModified = "", ""
		return nil, false, fmt.Errorf("%w: %w", errParse, perr.err)
	}
	f.warning = warning
	f.read = true
	f.hub, f.topic = hubOf(d.links, doc, body, base)
	return doc, false, nil
}

// decodeFeed is the one path from a fetched or pushed body to a parsed
// feed, for polls, pushes, the fuzz target and the benchmark: stray gzip
// unpacked, the charset decoded to UTF-8 (body, as parsed), then gofeed;
// a malformed document gives what salvage or JSON repair can read of it,
// and a warning that says so. A body with nothing to read is a
// *parseError.
func decodeFeed(raw []byte, contentType string, maxBody int64) (body []byte, doc *gofeed.Feed, warning string, err error) {
	if body, err = decodeBody(raw, contentType, maxBody); err != nil {
		return nil, nil, "", err
	}
	doc, perr := parse(body)
	if perr == nil {
		return body, doc, "", nil
	}
	if doc = salvage(body); doc == nil {
		doc = repairJSON(body)
	}
	if doc == nil {
		return body, nil, "", &parseError{perr}
	}
	return body, doc, fmt.Sprintf("malformed document: kept the %d items that could be read (%v)", len(doc.Items), perr), nil
}

// parseError is a document gofeed, salvage and JSON repair all failed to
// read.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// decodeBody unpacks stray gzip and decodes the charset to UTF-8.
func decodeBody(raw []byte, contentType string, maxBody int64) ([]byte, error) {
	body, err := gunzipStray(raw, maxBody)
	if err != nil {
		return nil, err
	}
	return toUTF8(body, contentType), nil
}

// normalize normalizes the items of a parsed document, leaving out those
// the feed's last stored poll brought unchanged.
func (p *Poller) normalize(feed feedmux.Feed, doc *gofeed.Feed, base *url.URL) ([]feedmux.Item, *itemMemo) {
	tagger := p.tagger.Load()
	memo := p.unchanged.memo(feed.URL, feedFingerprint(feed, tagger))
	return normalize(feed, doc, base, p.Now(), tagger, memo), memo
}

// parse parses a UTF-8 feed body with gofeed, keeping the format-specific
// feed for what the universal one drops (RSS <ttl>).
func parse(body []byte) (*gofeed.Feed, error) {
	fp := gofeed.NewParser()
	fp.KeepOriginalFeed = true
	// gofeed parses each RSS item's HTML for a first <img> when it names
	// no image: feedmux does not read that image, and the parse was a
	// tenth of a poll's CPU when nothing changed.
	fp.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return fp.Parse(bytes.NewReader(body))
}

// salvage parses the part of a broken XML document up to its last complete
// item or entry, closed as the format needs. It returns nil when that gives
// no items.
func salvage(body []byte) *gofeed.Feed {
	for _, c := range []struct{ end, root, close string }{
		{"</item>", "<rdf:RDF", "</rdf:RDF>"},
		{"</item>", "", "</channel></rss>"},
		{"</entry>", "", "</feed>"},
	} {
		i := bytes.LastIndex(body, []byte(c.end))
		if i < 0 || (c.root != "" && !bytes.Contains(body[:min(len(body), 4096)], []byte(c.root))) {
			continue
		}
		prefix := append(bytes.Clone(body[:i+len(c.end)]), c.close...)
		if doc, err := parse(prefix); err == nil && len(doc.Items) > 0 {
			return doc
		}
	}
	return nil
}

// repairJSON fixes the JSON Feed mistakes gofeed's strict decoding rejects
// (tags or authors given as one value instead of a list, numeric ids) and
// parses the result. It returns nil when that does not help.
func repairJSON(body []byte) *gofeed.Feed {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	items, _ := doc["items"].([]any)
	for _, x := range items {
		it, ok := x.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range []string{"tags", "authors", "attachments"} {
			if v, ok := it[k]; ok {
				if _, isList := v.([]any); !isList {
					it[k] = []any{v}
				}
			}
		}
		if n, ok := it["id"].(float64); ok {
			it["id"] = strconv.FormatFloat(n, 'f', -1, 64)
		}
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	if feed, err := parse(fixed); err == nil {
		return feed
	}
	return nil
}
