package aggregator

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

// hubOf finds the WebSub hub a feed document names, and its topic (the
// Recommendation, section 4): the HTTP Link headers first (rel="hub",
// rel="self"), then the document (Atom and RSS <link rel="hub">,
// <atom:link rel="hub">; JSON Feed "hubs"). The topic is the self URL,
// else the URL the document came from. Only an http or https hub counts;
// of several, the first. hub is "" when the document names none.
func hubOf(links []string, doc *gofeed.Feed, body []byte, base *url.URL) (hub, topic string) {
	hubs, self := linkHeader(links)
	docHubs, docSelf := docHubs(doc, body)
	hubs = append(hubs, docHubs...)
	self = append(self, docSelf...)
	for _, h := range hubs {
		if u := absURL(base, h); u != "" { // http or https only
			hub = u
			break
		}
	}
	if hub == "" {
		return "", ""
	}
	topic = base.String()
	for _, s := range self {
		if u := absURL(base, s); u != "" {
			topic = u
			break
		}
	}
	return hub, topic
}

// docHubs reads the hub and self links of a parsed document.
func docHubs(doc *gofeed.Feed, body []byte) (hubs, self []string) {
	switch orig := doc.OriginalFeed().(type) {
	case *atom.Feed:
		for _, l := range orig.Links {
			hubs, self = addLink(hubs, self, l.Rel, l.Href)
		}
	case *jsonfeed.Feed:
		// gofeed does not read "hubs" (JSON Feed 1.1).
		var jf struct {
			Hubs []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"hubs"`
		}
		// A second decode of the whole document, only for one that names
		// hubs (a key written with escapes is not looked for).
		if bytes.Contains(body, []byte(`"hubs"`)) && json.Unmarshal(bytes.TrimSpace(body), &jf) == nil {
			for _, h := range jf.Hubs {
				if t := strings.ToLower(h.Type); t == "" || t == "websub" || t == "pubsubhubbub" {
					hubs = append(hubs, h.URL)
				}
			}
		}
		if orig.FeedURL != "" {
			self = append(self, orig.FeedURL)
		}
		return hubs, self
	}
	// RSS keeps <atom:link> among its extensions, under whatever prefix
	// the document gave the Atom namespace.
	for _, elems := range doc.Extensions {
		for _, l := range elems["link"] {
			hubs, self = addLink(hubs, self, l.Attrs["rel"], l.Attrs["href"])
		}
	}
	return hubs, self
}

func addLink(hubs, self []string, rel, href string) ([]string, []string) {
	href = strings.TrimSpace(href)
	if href == "" {
		return hubs, self
	}
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch r {
		case "hub":
			hubs = append(hubs, href)
		case "self":
			self = append(self, href)
		}
	}
	return hubs, self
}

// linkHeader reads the hub and self links of HTTP Link header values
// (RFC 8288): `<https://hub.example/>; rel="hub", <https://a.example/feed>; rel=self`.
func linkHeader(values []string) (hubs, self []string) {
	for _, v := range values {
		for v != "" {
			start := strings.IndexByte(v, '<')
			end := strings.IndexByte(v, '>')
			if start < 0 || end < start {
				break
			}
			target := v[start+1 : end]
			v = v[end+1:]
			// The parameters run to the next link: a comma outside quotes.
			params, rest := v, ""
			quoted := false
			for i := 0; i < len(v); i++ {
				if v[i] == '"' {
					quoted = !quoted
				} else if v[i] == ',' && !quoted {
					params, rest = v[:i], v[i+1:]
					break
				}
			}
			v = rest
			for _, p := range strings.Split(params, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(name), "rel") {
					hubs, self = addLink(hubs, self, strings.Trim(strings.TrimSpace(value), `"`), target)
				}
			}
		}
	}
	return hubs, self
}
