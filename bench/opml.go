package main

import (
	"encoding/xml"
	"strconv"
)

// opmlDoc is an OPML 2.0 subscription list.
type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Body    []opmlOutline `xml:"body>outline"`
}

// opmlOutline is a category (with outlines) or a feed (with an xmlUrl).
type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// farmOPML is the farm's feeds as OPML, one category per tag (as feedmux
// is configured with them), each feed's site being site.
func farmOPML(f *farm, site string) []byte {
	cats := make([]opmlOutline, f.tags)
	for t := range cats {
		cats[t].Text = "t" + strconv.Itoa(t)
	}
	for i := range f.n {
		c := &cats[i%f.tags]
		c.Outlines = append(c.Outlines, opmlOutline{Text: "Source " + strconv.Itoa(i), Type: "rss", XMLURL: f.feedURL(i), HTMLURL: site})
	}
	data, _ := xml.MarshalIndent(opmlDoc{Version: "2.0", Title: "feedmux bench farm", Body: cats}, "", " ")
	return append([]byte(xml.Header), data...)
}
