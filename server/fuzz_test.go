package server

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server/servertest"
)

// FuzzRender renders any stored item in every format: the XML must be
// well-formed, the JSON valid, and nothing active may reach the HTML.
func FuzzRender(f *testing.F) {
	for _, it := range hostileItems() {
		f.Add(it.Key, it.Title, it.Summary, it.Content, it.URL, it.Author, it.Email, strings.Join(it.Tags, " "), it.Source.Title, int64(it.Published.Unix()))
	}
	f.Add("k", "]]>", "<![CDATA[x]]>", "<a href='javascript:x'>", "https://a/\x00", "\uFFFE", "a@b", "", "\x01", int64(-1))
	f.Fuzz(func(t *testing.T, key, title, summary, content, link, author, email, tags, source string, published int64) {
		it := feedmux.Item{Key: key, Title: title, Summary: summary, Content: content, URL: link, Author: author,
			Email: email, Source: feedmux.Source{URL: "https://src.example/feed", Title: source}}
		if published > 0 && published < 1<<40 {
			it.Published = time.Unix(published, 0).UTC()
		}
		it.FirstSeen = t0
		for _, tag := range strings.Fields(tags) {
			if feedmux.ValidTag(tag) {
				it.Tags = append(it.Tags, tag)
			}
		}
		ch := testChannel
		ch.Now = t0
		for _, format := range []string{formatAtom, formatRSS, formatJSON} {
			body, err := render(format, ch, []feedmux.Item{it})
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == formatJSON {
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("JSON does not parse: %v\n%s", err, body)
				}
				continue
			}
			dec := xml.NewDecoder(strings.NewReader(string(body)))
			for {
				_, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s is not well-formed: %v\n%s", format, err, body)
				}
			}
			var doc struct {
				Content []string `xml:"entry>content"`
				Encoded []string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			}
			xml.Unmarshal(body, &doc)
			for _, h := range append(doc.Content, doc.Encoded...) {
				if msg := servertest.ActiveHTML(h); msg != "" {
					t.Fatalf("%s content keeps something active (%s): %q", format, msg, h)
				}
			}
		}
	})
}
