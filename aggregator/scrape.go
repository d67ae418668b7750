package aggregator

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/feedmux/feedmux"
	"github.com/mmcdole/gofeed"
)

// CheckSelector reports whether sel is a CSS selector feedmux can use;
// withAttr allows an attribute after "@" ("a@href"). An empty selector is
// fine: the field is left out.
func CheckSelector(sel string, withAttr bool) error {
	css, attr := splitSelector(sel)
	if !withAttr && attr != "" {
		return fmt.Errorf("%q: no attribute (@%s) here", sel, attr)
	}
	if css == "" {
		return nil
	}
	if _, err := cascadia.ParseGroup(css); err != nil {
		return fmt.Errorf("%q does not compile: %v", sel, err)
	}
	return nil
}

// splitSelector splits "a.title@href" into the CSS selector and the
// attribute; "@href" alone reads the item element's own attribute.
func splitSelector(sel string) (css, attr string) {
	sel = strings.TrimSpace(sel)
	if i := strings.LastIndexByte(sel, '@'); i >= 0 && !strings.ContainsAny(sel[i:], "]) ") {
		return strings.TrimSpace(sel[:i]), strings.TrimSpace(sel[i+1:])
	}
	return sel, ""
}

// scrapePage reads items from an HTML listing page with the feed's
// selectors, as a parsed feed, so that they take every path a feed's items
// take. A page where the items selector matches nothing is an error that
// says so.
func scrapePage(body []byte, base *url.URL, sc *feedmux.Scrape) (*gofeed.Feed, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := &gofeed.Feed{Title: plainText(doc.Find("title").First().Text()), Link: base.String(), FeedType: "scrape"}
	found := doc.Find(sc.Items)
	if found.Length() == 0 {
		return nil, fmt.Errorf("scrape: the items selector %q matches nothing on the page", sc.Items)
	}
	found.Each(func(_ int, s *goquery.Selection) {
		it := &gofeed.Item{
			Title:       selectText(s, sc.Title),
			Link:        absURL(base, selectText(s, sc.Link)),
			Description: selectHTML(s, sc.Summary),
		}
		if d := selectText(s, sc.Date); d != "" {
			if t := parseDate(d); !t.IsZero() {
				it.PublishedParsed = &t
			}
		}
		if it.Title != "" || it.Link != "" {
			out.Items = append(out.Items, it)
		}
	})
	if len(out.Items) == 0 {
		return nil, errors.New("scrape: the items on the page have neither title nor link")
	}
	return out, nil
}

// selectText is the text (or attribute) sel picks inside s; "" for an
// empty selector or no match.
func selectText(s *goquery.Selection, sel string) string {
	if sel == "" {
		return ""
	}
	css, attr := splitSelector(sel)
	target := s
	if css != "" {
		target = s.Find(css).First()
	}
	if target.Length() == 0 {
		return ""
	}
	if attr != "" {
		return strings.TrimSpace(target.AttrOr(attr, ""))
	}
	return strings.Join(strings.Fields(target.Text()), " ")
}

// selectHTML is like selectText, but keeps the element's inner HTML.
func selectHTML(s *goquery.Selection, sel string) string {
	if css, attr := splitSelector(sel); attr != "" || css == "" {
		return selectText(s, sel)
	}
	h, _ := s.Find(sel).First().Html()
	return strings.TrimSpace(h)
}

// removeSelected drops the elements the selectors match from an HTML
// fragment (a feed's remove rules).
func removeSelected(fragment string, selectors []string) string {
	if len(selectors) == 0 || fragment == "" {
		return fragment
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<body>" + fragment + "</body>"))
	if err != nil {
		return fragment
	}
	removed := false
	for _, sel := range selectors {
		if m := doc.Find(sel); m.Length() > 0 {
			m.Remove()
			removed = true
		}
	}
	if !removed {
		return fragment
	}
	h, err := doc.Find("body").Html()
	if err != nil {
		return fragment
	}
	return h
}

// titleReplacer applies a feed's title_replace rules, compiled once per
// poll; the configuration checked that they compile.
func titleReplacer(rules [][2]string) func(string) string {
	type rule struct {
		re   *regexp.Regexp
		with string
	}
	var rs []rule
	for _, r := range rules {
		if re, err := regexp.Compile(r[0]); err == nil {
			rs = append(rs, rule{re, r[1]})
		}
	}
	return func(title string) string {
		for _, r := range rs {
			title = r.re.ReplaceAllString(title, r.with)
		}
		return strings.TrimSpace(title)
	}
}
