package aggregator

import (
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// itemLink is the absolute link of an item, from the first of the forms
// sources give it in that readers accept (feedparser and Miniflux read them
// all):
//
//   - the format's own link (RSS <link>, Atom rel="alternate" or a link
//     without rel, JSON Feed url);
//   - an Atom link inside an RSS item (<atom:link>, .NET's <a10:link>),
//     rel="alternate" or none, which gofeed leaves in the extensions;
//   - an RSS <guid> that is a permalink (isPermaLink is "true" or absent),
//     relative ones resolved like links (<guid>/blog/intro-graphml</guid>);
//   - a JSON Feed item's external_url when it has no url;
//   - an id that is an http(s) URL.
//
// Relative references resolve against base: the item's xml:base as gofeed
// applied it, else the document's URL. orig is the RSS item gofeed
// translated src from, nil for the other formats; jsonFeed says src comes
// from a JSON Feed.
func itemLink(src *gofeed.Item, orig *rss.Item, jsonFeed bool, base *url.URL) string {
	if u := absURL(base, src.Link); u != "" {
		return u
	}
	for _, l := range src.Extensions["atom"]["link"] {
		if rel := strings.TrimSpace(l.Attrs["rel"]); rel == "" || rel == "alternate" {
			if u := absURL(base, l.Attrs["href"]); u != "" {
				return u
			}
		}
	}
	if orig != nil && orig.GUID != nil && !strings.EqualFold(strings.TrimSpace(orig.GUID.IsPermalink), "false") {
		if u := absURL(base, orig.GUID.Value); u != "" {
			return u
		}
	}
	if jsonFeed && len(src.Links) == 1 { // external_url alone
		if u := absURL(base, src.Links[0]); u != "" {
			return u
		}
	}
	if isHTTPURL(strings.TrimSpace(src.GUID)) {
		return strings.TrimSpace(src.GUID)
	}
	return ""
}

// rssItems are the RSS items doc was translated from, in its order, or nil
// when doc is not RSS.
func rssItems(doc *gofeed.Feed) []*rss.Item {
	if orig, ok := doc.OriginalFeed().(*rss.Feed); ok && orig != nil && len(orig.Items) == len(doc.Items) {
		return orig.Items
	}
	return nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
