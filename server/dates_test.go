package server

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// TestRender_UndatedPileUp: 300 undated items of 30 sources, all first
// seen in the second the feed is rendered, and one dated an hour ahead.
// No format gives any of them a date later than the render; Atom's
// updated times are all distinct and the same on a second render.
func TestRender_UndatedPileUp(t *testing.T) {
	var items []feedmux.Item
	for s := range 30 {
		src := feedmux.Source{URL: fmt.Sprintf("https://s%d.example/feed", s), Title: fmt.Sprintf("Source %d", s)}
		for k := range 10 {
			items = append(items, feedmux.Item{Key: fmt.Sprint(k), URL: fmt.Sprintf("https://s%d.example/%d", s, k),
				Title: fmt.Sprintf("Report %d of source %d", k, s), Content: "<p>text</p>", Tags: []string{"pile"},
				FirstSeen: renderNow, Source: src})
		}
	}
	items[0].Published = renderNow.Add(time.Hour) // a source's fast clock
	ts := newTestServer(t, items)

	atomTimes := func() []string {
		resp := ts.get(t, "/tags/pile.atom?limit=500")
		body, _ := io.ReadAll(resp.Body)
		checkOutput(t, formatAtom, testBase+"/tags/pile.atom?limit=500", body)
		var doc struct {
			Entries []struct {
				Updated string `xml:"updated"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Entries) != len(items) {
			t.Fatalf("%d entries, want %d", len(doc.Entries), len(items))
		}
		var times []string
		seen := map[string]bool{}
		for _, e := range doc.Entries {
			if seen[e.Updated] {
				t.Errorf("two entries updated at %s", e.Updated)
			}
			seen[e.Updated] = true
			times = append(times, e.Updated)
		}
		return times
	}
	first := atomTimes()
	ts.Invalidate([]string{"pile"}) // render again, from the database
	if second := atomTimes(); fmt.Sprint(first) != fmt.Sprint(second) {
		t.Error("the updated times differ between two renders of the same items")
	}

	for _, format := range []string{formatRSS, formatJSON} {
		target := "/tags/pile." + format + "?limit=500"
		resp := ts.get(t, target)
		body, _ := io.ReadAll(resp.Body)
		checkOutput(t, format, testBase+target, body) // every date, against the render time
		if format == formatJSON {
			var doc struct {
				Items []struct {
					Published time.Time `json:"date_published"`
				} `json:"items"`
			}
			if err := json.Unmarshal(body, &doc); err != nil || len(doc.Items) != len(items) {
				t.Fatalf("JSON: %d items (%v), want %d", len(doc.Items), err, len(items))
			}
		}
	}
}
