package server

import (
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server/servertest"
)

var t0 = time.Date(2024, 3, 26, 12, 0, 0, 0, time.UTC)

// nastyItems are stored items of the kinds that break merged feeds.
func nastyItems() []feedmux.Item {
	src := feedmux.Source{URL: "https://a.example/feed.xml", Title: "A & B <News>", SiteURL: "https://a.example/"}
	return []feedmux.Item{
		{
			Key: "cdata", URL: "https://a.example/1", Title: "Content with ]]> inside",
			Content: "<p>a ]]> b &amp; <b>bold</b></p>", Summary: "short ]]> summary",
			Published: t0, Tags: []string{"world"}, Source: src, Email: "ed@a.example", Author: "Ed",
		},
		{
			Key: "undated", URL: "https://a.example/2", Title: "Undated", Content: "x",
			FirstSeen: t0.Add(-time.Hour), Tags: []string{"world", "الشرق-الأوسط"}, Source: src,
		},
		{
			Key: "untitled", URL: "https://a.example/3", Content: "<p>A post without a title, as Mastodon writes them, that goes on for quite a while longer than a title should</p>",
			Published: t0.Add(-2 * time.Hour), Source: src,
		},
		{
			Key: "podcast", URL: "https://a.example/4", Title: "Episode 1 — Ελληνικά, русский, العربية",
			Summary:    "Show notes",
			Enclosures: []feedmux.Enclosure{{URL: "https://a.example/ep1.mp3", Type: "audio/mpeg", Length: 123456}, {URL: "https://a.example/ep1.ogg"}},
			Published:  t0.Add(-3 * time.Hour), Updated: t0.Add(-time.Minute), Tags: []string{"podcast"}, Source: src,
			Author: "Host Name",
		},
		{
			Key: "long", Title: strings.Repeat("Very long title ", 40), Published: t0.Add(-4 * time.Hour), Source: src,
		},
	}
}

var testChannel = channel{
	Title: "feedmux: world", Description: "d", ID: feedmux.TagFeedID("tags/world"),
	SelfURL: "http://localhost:8080/tags/world.atom?limit=5", HTMLURL: "http://localhost:8080/#tag-world", Updated: t0,
}

func TestRender_Atom(t *testing.T) {
	body, err := render(formatAtom, testChannel, nastyItems())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content string `xml:"content"`
			Author  string `xml:"author>name"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("atom is not well-formed: %v", err)
	}
	if len(doc.Entries) != 5 {
		t.Fatalf("%d entries, want 5", len(doc.Entries))
	}
	if got := doc.Entries[0].Content; got != "<p>a ]]&gt; b &amp; <b>bold</b></p>" {
		t.Errorf("content round trip = %q", got)
	}
	if got := doc.Entries[1].Updated; got != "2024-03-26T11:00:00Z" {
		t.Errorf("undated entry updated = %q, want its first-seen time", got)
	}
	if got := doc.Entries[2].Title; !strings.HasPrefix(got, "A post without a title") || !strings.HasSuffix(got, "…") {
		t.Errorf("untitled entry title = %q, want the start of its text", got)
	}
	if got := doc.Entries[1].Author; got != "A & B <News>" {
		t.Errorf("entry without author has author %q, want the source title", got)
	}
	servertest.Jing(t, body)
	servertest.Feedparser(t, body)
}

func TestRender_RSS(t *testing.T) {
	body, err := render(formatRSS, testChannel, nastyItems())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Items []struct {
			Author  string `xml:"author"`
			Creator string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			PubDate string `xml:"pubDate"`
			Encl    []struct {
				URL string `xml:"url,attr"`
			} `xml:"enclosure"`
			Content string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("rss is not well-formed: %v", err)
	}
	it := doc.Items
	if it[0].Author != "ed@a.example (Ed)" || it[0].Creator != "" {
		t.Errorf("author with e-mail: author %q, dc:creator %q", it[0].Author, it[0].Creator)
	}
	if it[3].Author != "" || it[3].Creator != "Host Name" {
		t.Errorf("author without e-mail: author %q, dc:creator %q; want dc:creator only", it[3].Author, it[3].Creator)
	}
	if it[1].PubDate != "Tue, 26 Mar 2024 11:00:00 +0000" {
		t.Errorf("undated item pubDate = %q", it[1].PubDate)
	}
	if len(it[3].Encl) != 1 {
		t.Errorf("%d enclosures, want 1 (RSS allows one)", len(it[3].Encl))
	}
	if it[0].Content != "<p>a ]]&gt; b &amp; <b>bold</b></p>" {
		t.Errorf("content:encoded round trip = %q", it[0].Content)
	}
	if i, j := strings.Index(string(body), "<description>short"), strings.Index(string(body), "<content:encoded>"); i < 0 || j < i {
		t.Errorf("description must come before content:encoded")
	}
	if v, n := servertest.Feedparser(t, body); v != "rss20" || n != 5 {
		t.Errorf("feedparser: %s with %d entries", v, n)
	}
}

func TestRender_JSON(t *testing.T) {
	body, err := render(formatJSON, testChannel, nastyItems())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("json does not parse: %v", err)
	}
	if doc["version"] != "https://jsonfeed.org/version/1.1" || doc["title"] == "" || doc["feed_url"] != testChannel.SelfURL {
		t.Errorf("feed fields: version %v, title %v, feed_url %v", doc["version"], doc["title"], doc["feed_url"])
	}
	items, _ := doc["items"].([]any)
	if len(items) != 5 {
		t.Fatalf("%d items, want 5", len(items))
	}
	ids := map[string]bool{}
	for _, x := range items {
		it := x.(map[string]any)
		id, _ := it["id"].(string)
		if id == "" || ids[id] {
			t.Errorf("item id %q empty or repeated", id)
		}
		ids[id] = true
		if it["content_html"] == nil && it["content_text"] == nil {
			t.Errorf("item %s has neither content_html nor content_text", id)
		}
		if _, ok := it["author"]; ok {
			t.Errorf("item %s uses the JSON Feed 1.0 author", id)
		}
		if d, _ := it["date_published"].(string); d != "" {
			if _, err := time.Parse(time.RFC3339, d); err != nil {
				t.Errorf("date_published %q is not RFC 3339", d)
			}
		}
	}
	att := items[3].(map[string]any)["attachments"].([]any)
	if len(att) != 2 || att[1].(map[string]any)["mime_type"] == nil {
		t.Errorf("attachments = %v, want both with a mime_type", att)
	}
}

func TestRender_EmptyFeed(t *testing.T) {
	for _, f := range []string{formatAtom, formatRSS, formatJSON} {
		body, err := render(f, testChannel, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f == formatJSON {
			if !strings.Contains(string(body), `"items": []`) {
				t.Errorf("empty JSON feed has no items array:\n%s", body)
			}
			continue
		}
		if f == formatAtom {
			servertest.Jing(t, body)
		}
		servertest.Feedparser(t, body)
	}
}

func TestMatchesETag(t *testing.T) {
	const etag = `"abc"`
	for header, want := range map[string]bool{
		`"abc"`: true, `"abc-gz"`: true, `W/"abc"`: true, `W/"abc-gz"`: true, `*`: true, ` * `: true,
		`"x", "abc"`: true, `"x",W/"abc-gz" `: true, `"x"`: false, `"abcd"`: false, `"ab"`: false,
		`"abc-gzx"`: false, `"xbc-gz"`: false, `"abc-g"`: false, ``: false, `,`: false,
	} {
		if got := matchesETag(header, etag); got != want {
			t.Errorf("If-None-Match %q against %s: %v, want %v", header, etag, got, want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"": false, "gzip": true, "gzip, deflate, br": true, "br, *": true, "identity": false, "deflate, br": false,
		"gzip;q=0": false, "gzip;q=0.5, br": true, "br;q=1, gzip;q=0": false, "*;q=0": false, "GZIP;q=1": true, "GZIP": true,
	} {
		r := httptest.NewRequest("GET", "/all.atom", nil)
		r.Header.Set("Accept-Encoding", ae)
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", ae, got, want)
		}
	}
}
