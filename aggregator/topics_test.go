package aggregator

import (
	"slices"
	"strings"
	"testing"

	"github.com/feedmux/feedmux"
)

// lbci is the LBCI report of the issue, with the categories it carried.
var lbci = feedmux.Item{
	Title: "Haniyeh meets Iranian foreign minister in Doha",
	Categories: []string{"Middle East News", "Israel-Gaza War Updates", "Hamas", "Iran", "Ismail Haniyeh",
		"Iranian", "Gaza", "Crisis"},
}

var issueRules = Rules{
	Aliases: map[string][]string{
		"middle-east": {"Middle East News", "Middle East", "MENA", "الشرق الأوسط"},
		"iran":        {"Iran", "Iranian", "Tehran"},
	},
	Topics: []Topic{{
		Tag:     "gaza",
		Match:   []string{"Gaza", "Rafah", "Khan Younis", "غزة"},
		Regex:   []string{`(?i)\bcease-?fire\b`},
		Exclude: []string{"football"},
	}},
}

func TestTagger_LBCI(t *testing.T) {
	tagger, err := NewTagger(issueRules)
	if err != nil {
		t.Fatal(err)
	}
	feed := feedmux.Feed{URL: "https://www.lbcgroup.tv/Rss/latest-news/en", Tags: []string{"lebanon"}}
	got := tagger.Tags(feed, &lbci)
	want := []string{"gaza", "iran", "lebanon", "middle-east"}
	if !slices.Equal(got, want) {
		t.Errorf("LBCI report tagged %v, want %v", got, want)
	}
	feed.Categories = true
	got = tagger.Tags(feed, &lbci)
	for _, tag := range []string{"middle-east", "iran", "gaza", "hamas", "israel-gaza-war-updates"} {
		if !slices.Contains(got, tag) {
			t.Errorf("with categories on: %v lacks %s", got, tag)
		}
	}
	if slices.Contains(got, "iranian") || slices.Contains(got, "middle-east-news") {
		t.Errorf("aliased categories kept their own slugs: %v", got)
	}
}

func TestTagger_Rules(t *testing.T) {
	tests := []struct {
		name  string
		topic Topic
		feed  feedmux.Feed
		item  feedmux.Item
		want  bool
	}{
		{"whole word", Topic{Match: []string{"Iran"}}, feedmux.Feed{}, feedmux.Item{Title: "Iranian talks resume"}, false},
		{"listed form", Topic{Match: []string{"Iran", "Iranian"}}, feedmux.Feed{}, feedmux.Item{Title: "Iranian talks resume"}, true},
		{"possessive", Topic{Match: []string{"Gaza"}}, feedmux.Feed{}, feedmux.Item{Title: "Gaza's hospitals overwhelmed"}, true},
		{"case", Topic{Match: []string{"gaza"}}, feedmux.Feed{}, feedmux.Item{Title: "GAZA: aid arrives"}, true},
		{"phrase", Topic{Match: []string{"Khan Younis"}}, feedmux.Feed{}, feedmux.Item{Title: "Strikes near Khan  Younis overnight"}, true},
		{"phrase words apart", Topic{Match: []string{"Khan Younis"}}, feedmux.Feed{}, feedmux.Item{Title: "Khan says Younis left"}, false},
		{"phrase across categories", Topic{Match: []string{"Khan Younis"}}, feedmux.Feed{}, feedmux.Item{Categories: []string{"Khan", "Younis"}}, false},
		{"Arabic", Topic{Match: []string{"غزة"}}, feedmux.Feed{}, feedmux.Item{Title: "قصف على غزة الليلة"}, true},
		{"Arabic with proclitic", Topic{Match: []string{"غزة"}}, feedmux.Feed{}, feedmux.Item{Title: "مساعدات لغزة وبغزة"}, true},
		{"Arabic other word", Topic{Match: []string{"غزة"}}, feedmux.Feed{}, feedmux.Item{Title: "غزال في الحديقة"}, false},
		{"NFKC", Topic{Match: []string{"ﬁnance"}}, feedmux.Feed{}, feedmux.Item{Title: "Finance ministers meet"}, true},
		{"summary field", Topic{Match: []string{"Rafah"}}, feedmux.Feed{}, feedmux.Item{Title: "Border news", Summary: "<p>The <b>Rafah</b> crossing</p>"}, true},
		{"word at a paragraph's end", Topic{Match: []string{"Rafah"}}, feedmux.Feed{}, feedmux.Item{Title: "Border news", Summary: "<p>Aid waits in Rafah</p><p>Trucks queue</p>"}, true},
		{"entity", Topic{Match: []string{"Rafah crossing"}}, feedmux.Feed{}, feedmux.Item{Title: "Border news", Summary: "Rafah&nbsp;crossing &amp; more"}, true},
		{"field not chosen", Topic{Match: []string{"Rafah"}, Fields: []string{"title"}}, feedmux.Feed{}, feedmux.Item{Title: "Border news", Summary: "Rafah crossing"}, false},
		{"content only when asked", Topic{Match: []string{"Rafah"}}, feedmux.Feed{}, feedmux.Item{Title: "x", Content: "Rafah"}, false},
		{"exclude", Topic{Match: []string{"Gaza"}, Exclude: []string{"football"}}, feedmux.Feed{}, feedmux.Item{Title: "Gaza football team wins"}, false},
		{"regex", Topic{Regex: []string{`(?i)\bcease-?fire\b`}}, feedmux.Feed{}, feedmux.Item{Title: "Talks on a cease-fire"}, true},
		{"regex no match", Topic{Regex: []string{`(?i)\bcease-?fire\b`}}, feedmux.Feed{}, feedmux.Item{Title: "Ceasefires elsewhere"}, false},
		{"feeds_tagged", Topic{Match: []string{"Gaza"}, FeedsTagged: []string{"middle-east"}}, feedmux.Feed{Tags: []string{"middle-east"}}, feedmux.Item{Title: "Gaza"}, true},
		{"feeds_tagged other feed", Topic{Match: []string{"Gaza"}, FeedsTagged: []string{"middle-east"}}, feedmux.Feed{Tags: []string{"sport"}}, feedmux.Item{Title: "Gaza"}, false},
		{"category", Topic{Match: []string{"Gaza"}}, feedmux.Feed{}, feedmux.Item{Title: "x", Categories: []string{"Gaza"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.topic.Tag = "t"
			tagger, err := NewTagger(Rules{Topics: []Topic{tc.topic}})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(tagger.Tags(tc.feed, &tc.item), "t"); got != tc.want {
				t.Errorf("tagged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTagger_Errors(t *testing.T) {
	_, err := NewTagger(Rules{Topics: []Topic{{Tag: "x", Regex: []string{"(unclosed"}, Fields: []string{"body"}}}})
	if err == nil {
		t.Fatal("bad rules compiled")
	}
	for _, want := range []string{`unknown field "body"`, `regex "(unclosed"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestKeep(t *testing.T) {
	feed := feedmux.Feed{Include: []string{"Lebanon", "Beirut"}, Exclude: []string{"sponsored"}}
	for _, tc := range []struct {
		title string
		want  bool
	}{
		{"Beirut port reopens", true},
		{"Lebanon's cabinet meets", true},
		{"Sponsored: Lebanon travel deals", false},
		{"Football results", false},
	} {
		if got := Keep(feed, &feedmux.Item{Title: tc.title}); got != tc.want {
			t.Errorf("Keep(%q) = %v, want %v", tc.title, got, tc.want)
		}
	}
	if !Keep(feedmux.Feed{}, &feedmux.Item{Title: "anything"}) {
		t.Error("a feed without filters drops items")
	}
}
