package feedmux

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// The markup SafeHTML keeps: the elements and attributes of bluemonday's
// policy for user-generated content (UGCPolicy, v1.0.27), with its value
// patterns, written as tables that SafeHTML applies to the tree it parses
// anyway. Running bluemonday itself meant a second pass over every item's
// HTML, with its own tokenizer, that cost as much as the parse; its
// policy stays the yardstick: the tests check that it finds nothing to
// remove in what SafeHTML keeps.

// attrRule says which values an attribute may have: any (nil pattern), or
// those its pattern matches. A URL attribute is checked by absolute too.
type attrRule struct {
	pattern *regexp.Regexp
	url     bool
}

var (
	anyValue = attrRule{}
	urlValue = attrRule{url: true}
)

func matching(re *regexp.Regexp) attrRule { return attrRule{pattern: re} }

// globalAttrs may be on any kept element. The lang and id patterns are
// bluemonday's, unanchored as there.
var globalAttrs = map[string]attrRule{
	"dir":   matching(bluemonday.Direction),
	"lang":  matching(regexp.MustCompile(`[a-zA-Z]{2,20}`)),
	"id":    matching(regexp.MustCompile(`[a-zA-Z0-9\:\-_\.]+`)),
	"title": matching(bluemonday.Paragraph),
}

// keptElements maps each element kept to the attributes it may have
// besides the global ones. Any other element is unwrapped: its content
// stays, itself goes.
var keptElements = func() map[string]map[string]attrRule {
	els := map[string]map[string]attrRule{}
	for _, name := range []string{"article", "aside", "figure", "section", "summary",
		"h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "br", "div", "hr", "p", "span", "wbr",
		"abbr", "acronym", "cite", "code", "dfn", "em", "figcaption", "mark", "s", "samp",
		"strong", "sub", "sup", "var", "b", "i", "pre", "small", "strike", "tt", "u",
		"rp", "rt", "ruby", "dl", "dt", "dd", "caption"} {
		els[name] = map[string]attrRule{}
	}
	on := func(rule attrRule, attrs []string, names ...string) {
		for _, name := range names {
			if els[name] == nil {
				els[name] = map[string]attrRule{}
			}
			for _, a := range attrs {
				els[name][a] = rule
			}
		}
	}
	attrs := func(a ...string) []string { return a }
	number, numberOrPercent, integer := matching(bluemonday.Number), matching(bluemonday.NumberOrPercent), matching(bluemonday.Integer)
	cellAlign, cellVAlign := matching(bluemonday.CellAlign), matching(bluemonday.CellVerticalAlign)
	paragraph, iso8601 := matching(bluemonday.Paragraph), matching(bluemonday.ISO8601)

	on(matching(regexp.MustCompile(`(?i)^(|open)$`)), attrs("open"), "details")
	on(urlValue, attrs("cite"), "blockquote", "q")
	on(urlValue, attrs("href"), "a", "area")
	on(matching(regexp.MustCompile(`^([\p{L}\p{N}_-]+)$`)), attrs("name"), "map")
	on(paragraph, attrs("alt"), "area", "img")
	on(matching(regexp.MustCompile(`^([0-9]+,)+[0-9]+$`)), attrs("coords"), "area")
	on(matching(bluemonday.SpaceSeparatedTokens), attrs("rel"), "area")
	on(matching(regexp.MustCompile(`(?i)^(default|circle|rect|poly)$`)), attrs("shape"), "area")
	on(matching(regexp.MustCompile(`(?i)^#[\p{L}\p{N}_-]+$`)), attrs("usemap"), "img")
	on(iso8601, attrs("datetime"), "time", "del", "ins")
	on(matching(bluemonday.Direction), attrs("dir"), "bdi", "bdo")
	// bluemonday checks del's and ins's cite as a paragraph, and as a URL.
	on(attrRule{pattern: bluemonday.Paragraph, url: true}, attrs("cite"), "del", "ins")
	on(matching(bluemonday.ListType), attrs("type"), "ol", "ul", "li")
	on(integer, attrs("value"), "li")
	on(numberOrPercent, attrs("height", "width"), "table", "col", "colgroup", "td", "th", "img")
	on(paragraph, attrs("summary"), "table")
	on(cellAlign, attrs("align"), "col", "colgroup", "thead", "tr", "td", "th", "tbody", "tfoot")
	on(cellVAlign, attrs("valign"), "col", "colgroup", "thead", "tr", "td", "th", "tbody", "tfoot")
	on(integer, attrs("span"), "col", "colgroup")
	on(paragraph, attrs("abbr"), "td", "th")
	on(integer, attrs("colspan", "rowspan"), "td", "th")
	on(matching(bluemonday.SpaceSeparatedTokens), attrs("headers"), "td", "th")
	on(matching(regexp.MustCompile(`(?i)(?:row|col)(?:group)?`)), attrs("scope"), "td", "th")
	on(matching(regexp.MustCompile(`(?i)|nowrap`)), attrs("nowrap"), "td", "th")
	on(number, attrs("value", "min", "max", "low", "high", "optimum"), "meter")
	on(number, attrs("value", "max"), "progress")
	on(matching(bluemonday.ImageAlign), attrs("align"), "img")
	on(urlValue, attrs("src"), "img")
	// Video players only (videoEmbed), which feeds embed often.
	on(attrRule{pattern: videoEmbed, url: true}, attrs("src"), "iframe")
	on(number, attrs("width", "height"), "iframe")
	on(anyValue, attrs("title"), "iframe")
	on(matching(regexp.MustCompile(`^(allowfullscreen)?$`)), attrs("allowfullscreen"), "iframe")
	return els
}()

// keptBare are the elements that stay without attributes, as bluemonday
// lists them (some are not kept at all); any other kept element (a link
// without its URL, an image without its source) is unwrapped when none of
// its attributes may stay.
var keptBare = setOf("abbr", "acronym", "address", "article", "aside", "audio", "b", "bdi",
	"blockquote", "body", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
	"colgroup", "datalist", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "fieldset",
	"figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header",
	"hgroup", "hr", "html", "i", "ins", "kbd", "li", "mark", "marquee", "nav", "ol", "optgroup",
	"option", "p", "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "script", "section",
	"select", "small", "span", "strike", "strong", "style", "sub", "summary", "sup", "svg",
	"table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title", "time", "tr", "tt", "u",
	"ul", "var", "video", "wbr")

// droppedWhole are the elements removed with their content: code, styles,
// documents of their own, and what only shows where scripts do not run.
var droppedWhole = setOf("script", "style", "title", "template", "iframe", "frame", "frameset",
	"object", "embed", "noembed", "noframes", "noscript", "head", "meta", "link", "base")

func setOf(names ...string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}
