package aggregator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedmux/feedmux"
)

// TestPoller_RewriteRules: a feed's remove selectors drop elements from
// the content before it is stored, and its title_replace rules rewrite
// titles, in order.
func TestPoller_RewriteRules(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link><description>d</description>
<item><title>Breaking: Storm floods coastal towns [VIDEO]</title><link>https://t.example/1</link>
<description><![CDATA[<p>Thousands fled.</p><div class="newsletter">Sign up for our newsletter</div><figure class="ad"><img src="https://ads.example/x.png"></figure><figure><img src="https://t.example/storm.jpg"></figure>]]></description></item>
</channel></rss>`))
	}))
	defer srv.Close()
	p, db := newPoller(t)
	feed := feedmux.Feed{URL: srv.URL, Tags: []string{"x"}, Remove: []string{"div.newsletter", "figure.ad"},
		TitleReplace: [][2]string{{`^Breaking: `, ""}, {`\s*\[VIDEO\]$`, ""}}}
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(t.Context(), feedmux.ItemFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	it := items[0]
	if it.Title != "Storm floods coastal towns" {
		t.Errorf("title %q, want the rules applied", it.Title)
	}
	if strings.Contains(it.Summary, "newsletter") || strings.Contains(it.Summary, "ads.example") ||
		!strings.Contains(it.Summary, "Thousands fled.") || !strings.Contains(it.Summary, "storm.jpg") {
		t.Errorf("summary %q, want the newsletter and the ad removed, the rest kept", it.Summary)
	}
}
