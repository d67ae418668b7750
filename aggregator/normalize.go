package aggregator

import (
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// Plausible publication times: a news item from before 1990 or more than a
// day ahead is a broken date, replaced by the time feedmux first saw it.
var (
	earliestDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	maxFuture    = 24 * time.Hour
)

// normalize turns a parsed document into the items feedmux stores: a key for
// each, absolute links, plausible times, plain-text titles, sanitized HTML
// and the tags that apply. Items repeating an earlier item's key are
// dropped. Undated items get first-seen times one second apart that keep the
// source's order (newest first), so no two share a time. With a memo, the
// items its last stored poll saw unchanged are left out: they are stored.
func normalize(feed feedmux.Feed, doc *gofeed.Feed, base *url.URL, now time.Time, tagger *Tagger, memo *itemMemo) []feedmux.Item {
	items := make([]feedmux.Item, 0, len(doc.Items))
	seen := make(map[uint64]bool, len(doc.Items)) // keys, by keyHash
	orig := rssItems(doc)
	retitle := titleReplacer(feed.TitleReplace)
	for i, src := range doc.Items {
		if src == nil {
			continue
		}
		var origItem *rss.Item
		if orig != nil {
			origItem = orig[i]
		}
		hash, key, unchanged := memo.lookup(src, origItem)
		if unchanged {
			seen[key] = true
			continue
		}
		it := feedmux.Item{
			GUID:      strings.TrimSpace(src.GUID),
			URL:       itemLink(src, origItem, doc.FeedType == "json", base),
			Title:     plainText(src.Title),
			Published: plausible(src.PublishedParsed, now),
			Updated:   plausible(src.UpdatedParsed, now),
			FirstSeen: now.Add(-time.Duration(i) * time.Second),
		}
		// Relative URLs in the HTML are relative to the item's page, else
		// to the feed (gofeed has already applied an Atom xml:base).
		htmlBase := base
		if it.URL != "" {
			htmlBase, _ = url.Parse(it.URL)
		}
		// Remove rules select by class and id, which sanitizing drops.
		it.Summary = feedmux.SafeHTML(removeSelected(src.Description, feed.Remove), htmlBase)
		it.Content = feedmux.SafeHTML(removeSelected(src.Content, feed.Remove), htmlBase)
		if it.Published.IsZero() {
			it.Published, it.Updated = it.Updated, time.Time{}
		}
		if a := author(src); a != nil {
			it.Author, it.Email = plainText(a.Name), strings.TrimSpace(a.Email)
		}
		aggregated(src, origItem, &it)
		it.Title = retitle(it.Title)
		it.Categories = categories(src.Categories)
		if !Keep(feed, &it) {
			continue // the feed's include and exclude filters
		}
		it.Tags = tagger.Tags(feed, &it)
		it.Enclosures = enclosures(base, src.Enclosures)
		// The key takes the format's own link only, as it always has: a link
		// found in another form must not give a stored item a new identity.
		it.Key = feedmux.ItemKey(it.GUID, absURL(base, src.Link), it.Title, it.Published)
		key = keyHash(it.Key)
		if seen[key] {
			continue
		}
		seen[key] = true
		memo.note(hash, key)
		items = append(items, it)
	}
	return items
}

func author(src *gofeed.Item) *gofeed.Person {
	if len(src.Authors) > 0 && src.Authors[0] != nil {
		return src.Authors[0]
	}
	return src.Author
}

// categories trims the item's categories and drops empty and repeated ones.
// Some feeds put several categories in one element, separated by commas;
// those are left whole, as the source wrote them.
func categories(in []string) []string {
	var out []string
	for _, c := range in {
		c = plainText(c)
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func enclosures(base *url.URL, in []*gofeed.Enclosure) []feedmux.Enclosure {
	var out []feedmux.Enclosure
	for _, e := range in {
		if e == nil {
			continue
		}
		u := absURL(base, e.URL)
		if u == "" {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
		out = append(out, feedmux.Enclosure{URL: u, Type: strings.TrimSpace(e.Type), Length: max(n, 0)})
	}
	return out
}

// absURL resolves ref against base and returns it when it is an http(s) URL.
func absURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

func plausible(t *time.Time, now time.Time) time.Time {
	if t == nil || t.Before(earliestDate) || t.After(now.Add(maxFuture)) {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

// plainText turns a title that may hold markup or entities into plain text
// on one line.
func plainText(s string) string {
	if strings.ContainsAny(s, "<&") {
		s = html.UnescapeString(stripTagsPolicy.Sanitize(s))
	}
	// Last: an entity such as &#3; unescapes to a character XML forbids.
	return feedmux.XMLText(strings.Join(strings.Fields(s), " "))
}

var stripTagsPolicy = bluemonday.StrictPolicy()
