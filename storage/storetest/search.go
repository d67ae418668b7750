package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/feedmux/feedmux"
)

// searchKeys returns the keys of every item that matches q under filter,
// page by page (limit 2), in the order served.
func searchKeys(tb testing.TB, db feedmux.Store, q string, filter feedmux.ItemFilter) []string {
	tb.Helper()
	s, err := feedmux.ParseSearch(q)
	if err != nil {
		tb.Fatal(err)
	}
	filter.Search, filter.Limit = &s, 2
	var ks []string
	for range 100 {
		page, err := db.ItemPage(tb.Context(), filter)
		if err != nil {
			tb.Fatal(err)
		}
		ks = append(ks, keys(page.Items)...)
		if page.Next.IsZero() {
			return ks
		}
		filter.Before = page.Next
	}
	tb.Fatalf("search %q: paging does not end", q)
	return nil
}

func testSearch(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	a := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	b := feedmux.Feed{URL: "https://b.example/rss", Title: "B"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	items := []feedmux.Item{
		item("both", "Haniyeh meets officials in Tehran", at(-1), "middle-east"),
		item("haniyeh", "Haniyeh speaks in Doha", at(-2), "middle-east"),
		item("tehran", "Tehran traffic", at(-3), "iran"),
		item("talks", "Talks resume", at(-4), "middle-east"),
		item("stall", "Ceasefire talks stall; Haniyeh says no", at(-5), "middle-east"),
		item("markup", "Markup only", at(-6), "tech"),
		item("accents", "Tehrān in the news", at(-7), "iran", "security"),
		item("reversed", "Talks on a ceasefire", at(-8), "middle-east"),
	}
	items[3].Content = `<p>The <b>ceasefire talks</b> resume in Cairo &amp; Doha</p>`
	items[5].Content = `<div class="x"><a href="https://link.example/page" rel="noopener">a link</a></div>`
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, items); err != nil {
		t.Fatal(err)
	}
	// The same article from B: a copy of "both", shown once.
	cp := item("copy", "Haniyeh meets officials in Tehran (B)", at(-1), "world")
	cp.URL = items[0].URL
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: b.URL}, []feedmux.Item{cp}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, q string
		filter  feedmux.ItemFilter
		want    []string
	}{
		{"every word", "Haniyeh Tehran", feedmux.ItemFilter{}, []string{"both"}},
		{"diacritics and case", "TEHRAN", feedmux.ItemFilter{}, []string{"both", "tehran", "accents"}},
		{"phrase in content", `"ceasefire talks"`, feedmux.ItemFilter{}, []string{"talks", "stall"}},
		{"phrase without a word", `"ceasefire talks" -Haniyeh`, feedmux.ItemFilter{}, []string{"talks"}},
		{"or", "doha OR traffic", feedmux.ItemFilter{}, []string{"haniyeh", "tehran", "talks"}},
		{"and with or", "haniyeh doha OR tehran", feedmux.ItemFilter{}, []string{"both", "haniyeh"}},
		{"entities decoded", "cairo doha", feedmux.ItemFilter{}, []string{"talks"}},
		{"markup is not text", "href OR https OR div OR noopener OR class", feedmux.ItemFilter{}, nil},
		{"link text is", "link", feedmux.ItemFilter{}, []string{"markup"}},
		{"tag", "tehran", feedmux.ItemFilter{Tags: []string{"iran"}}, []string{"tehran", "accents"}},
		{"tag of the copy", "haniyeh", feedmux.ItemFilter{Tags: []string{"world"}}, []string{"both"}},
		{"excluded tag", "tehran", feedmux.ItemFilter{Exclude: []string{"security"}}, []string{"both", "tehran"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := searchKeys(t, db, tc.q, tc.filter); !slices.Equal(got, tc.want) {
				t.Errorf("search %q %+v = %q, want %q", tc.q, tc.filter, got, tc.want)
			}
		})
	}

	t.Run("an edit changes what matches", func(t *testing.T) {
		edited := items[2]
		edited.Title, edited.Content = "Isfahan traffic", "<p>Isfahan traffic</p>"
		if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{edited}); err != nil {
			t.Fatal(err)
		}
		if got := searchKeys(t, db, "tehran traffic", feedmux.ItemFilter{}); got != nil {
			t.Errorf("old title still matches: %q", got)
		}
		if got := searchKeys(t, db, "isfahan", feedmux.ItemFilter{}); !slices.Equal(got, []string{"tehran"}) {
			t.Errorf("new title: %q, want [tehran]", got)
		}
	})
}

// testSearchArticle: the text of a fetched article is searched.
func testSearchArticle(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	full := feedmux.Feed{URL: "https://full.example/rss", FullContent: true}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{full}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: full.URL}, []feedmux.Item{item("a", "A report", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	jobs, err := db.DuePages(ctx, t0.Add(time.Hour), 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("due pages: %+v, %v", jobs, err)
	}
	if _, err := db.SavePage(ctx, jobs[0].ID, feedmux.PageUpdate{Article: "<p>Negotiators met in <i>Muscat</i>.</p>", Item: jobs[0].Item}); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, db, "muscat report", feedmux.ItemFilter{}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("search of the article's text: %q, want [a]", got)
	}
}

// testSearchRemoved: items that retention removes leave the index;
// the copy that takes the place of a removed first is found instead.
func testSearchRemoved(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, retention := open(t)
	a := feedmux.Feed{URL: "https://a.example/rss", Title: "A"}
	b := feedmux.Feed{URL: "https://b.example/rss", Title: "B"}
	if err := db.SyncFeeds(ctx, []feedmux.Feed{a, b}); err != nil {
		t.Fatal(err)
	}
	*retention = feedmux.Retention{MaxItemsPerFeed: 3}
	var polled []feedmux.Item
	for i := range 5 {
		polled = append(polled, item(fmt.Sprint(i), fmt.Sprintf("Kestrel report %d", i), t0.Add(time.Duration(i)*time.Minute), "x"))
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, polled); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, db, "kestrel", feedmux.ItemFilter{}); !slices.Equal(got, []string{"4", "3", "2"}) {
		t.Errorf("after the feed was trimmed to 3: %q, want [4 3 2]", got)
	}

	*retention = feedmux.Retention{}
	old := item("old", "Osprey sighted", t0.Add(-72*time.Hour), "x")
	old.URL, old.FirstSeen = "https://news.example/osprey", t0.Add(-72*time.Hour)
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: b.URL}, []feedmux.Item{old}); err != nil {
		t.Fatal(err)
	}
	cp := item("copy", "Osprey sighted again", t0, "x")
	cp.URL = old.URL
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: a.URL}, []feedmux.Item{cp}); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, db, "osprey", feedmux.ItemFilter{}); !slices.Equal(got, []string{"old"}) {
		t.Errorf("an article and its copy: %q, want the first once", got)
	}
	if _, err := db.Prune(ctx, feedmux.Retention{MaxAge: 48 * time.Hour}, 10); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, db, "osprey", feedmux.ItemFilter{}); !slices.Equal(got, []string{"copy"}) {
		t.Errorf("after the first was removed: %q, want its copy", got)
	}
	for q, want := range map[string]int{"kestrel": 3, "osprey": 1} {
		s, _ := feedmux.ParseSearch(q)
		m, ok := db.(searchMatcher)
		if !ok {
			continue
		}
		if n, err := m.SearchMatches(ctx, &s); err != nil || n != want {
			t.Errorf("index rows matching %s: %d (%v), want %d: removed items stay in the index", q, n, err, want)
		}
	}
}

// testSearchSyntax: what a search engine's own syntax would mean (FTS5's
// or tsquery's operators, quotes, prefixes) is only text in a query: each
// of these finds the item whose words it names, as a phrase of them
// (rust:x is "rust x", x:A is "x a"), without an error.
func testSearchSyntax(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/rss"},
		[]feedmux.Item{item("a", "Rust x y z", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`rust&x`, `rust|x`, `!x`, `x:*`, `'rust'`, `<->x`, `rust\`, `(rust`, `rust)`,
		`rust*`, `"rust x"`, `z -"x rust"`, `"!x & y"`, `rust:x`, `rust -'nothing'`} {
		if got := searchKeys(t, db, q, feedmux.ItemFilter{}); !slices.Equal(got, []string{"a"}) {
			t.Errorf("search %q = %q, want [a]", q, got)
		}
	}
	for _, q := range []string{`"x rust"`, `rust -"y z"`, `x:A`} {
		if got := searchKeys(t, db, q, feedmux.ItemFilter{}); got != nil {
			t.Errorf("search %q = %q, want nothing", q, got)
		}
	}
}

// testSearchScripts: words of other scripts are found whatever their
// case, and scripts written with combining signs (Devanagari) keep their
// words whole.
func testSearchScripts(t *testing.T, open Open) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t)
	items := []feedmux.Item{
		item("ru", "Переговоры в Тегеране", t0, "x"),
		item("hi", "हिन्दी समाचार", t0.Add(-time.Hour), "x"),
		item("el", "Ειδήσεις από την Αθήνα", t0.Add(-2*time.Hour), "x"),
	}
	if _, err := db.SaveItems(ctx, feedmux.FeedState{URL: "https://a.example/rss"}, items); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"ПЕРЕГОВОРЫ": {"ru"},
		"тегеране":   {"ru"},
		"हिन्दी":     {"hi"},
		"समाचार":     {"hi"},
		"हि":         nil, // a part of a word is not a word
		"αθήνα":      {"el"},
	} {
		if got := searchKeys(t, db, q, feedmux.ItemFilter{}); !slices.Equal(got, want) {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
}
