package main

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedmux/feedmux"
)

func TestParseConfig_Bundled(t *testing.T) {
	data, err := os.ReadFile("../../feeds.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("feeds.toml", data)
	if err != nil {
		t.Fatalf("the bundled feeds.toml does not load: %v", err)
	}
	feeds := cfg.FeedList()
	if len(feeds) < 5 {
		t.Fatalf("bundled config has %d feeds, want several", len(feeds))
	}
	tags := map[string]bool{}
	for _, f := range feeds {
		if err := f.Validate(); err != nil {
			t.Errorf("feed %s: %v", f.URL, err)
		}
		for _, tag := range f.Tags {
			tags[tag] = true
		}
	}
	for _, want := range []string{"middle-east", "lebanon", "iran", "world", "tech"} {
		if !tags[want] {
			t.Errorf("bundled config has no feed tagged %q", want)
		}
	}
	if cfg.Server.Listen != ":8080" || cfg.Storage.Path != "data/feedmux.db" {
		t.Errorf("bundled defaults = %q, %q; want :8080, data/feedmux.db", cfg.Server.Listen, cfg.Storage.Path)
	}
}

func TestParseConfig(t *testing.T) {
	doc := `
[poll]
interval = "10m"

[[feed]]
url = "https://a.example/rss"
tags = ["middle-east", "lebanon"]
interval = "5m"
categories = false

[[feed]]
url = "https://b.example/atom"
title = "B"
`
	cfg, err := ParseConfig("feeds.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []feedmux.Feed{
		{URL: "https://a.example/rss", Tags: []string{"middle-east", "lebanon"}, Interval: 5 * time.Minute},
		{URL: "https://b.example/atom", Title: "B", Interval: 10 * time.Minute, Categories: true},
	}
	if diff := cmp.Diff(want, cfg.FeedList()); diff != "" {
		t.Errorf("FeedList (-want +got):\n%s", diff)
	}
	if cfg.Poll.Concurrency != 8 || time.Duration(cfg.Poll.Timeout) != 30*time.Second {
		t.Errorf("defaults not kept: %+v", cfg.Poll)
	}
}

func TestParseConfig_Errors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // every line of the error, in order
	}{
		{
			name: "unknown keys with line and column",
			doc:  "[server]\nlisten = \":1\"\nlisen = \":2\"\n\n[[feed]]\nurl = \"https://a.example/\"\ntag = [\"x\"]\n",
			want: []string{
				`feeds.toml:3:1: unknown key "server.lisen"`,
				`feeds.toml:7:1: unknown key "feed.tag"`,
			},
		},
		{
			name: "a view that is neither items nor stories",
			doc:  "[tags.world]\nview = \"story\"\n",
			want: []string{`feeds.toml:2:8: tags.world.view must be "items" or "stories", not "story"`},
		},
		{
			name: "syntax",
			doc:  "[poll]\ninterval = 15m\n",
			want: []string{"feeds.toml:2:"},
		},
		{
			name: "push interval",
			doc:  "[poll]\npush_interval = \"0s\"\n",
			want: []string{`feeds.toml:2:17: poll.push_interval 0s is shorter than 1s`},
		},
		{
			name: "every semantic problem at once",
			doc: `[poll]
interval = "500ms"

[[feed]]
url = "ftp://a.example/"

[[feed]]
url = "https://b.example/"
tags = ["Middle East", "ok"]

[[feed]]
url = "https://b.example/"
interval = "0.5s"
`,
			want: []string{
				`feeds.toml:2:12: poll.interval 500ms is shorter than 1s`,
				`feeds.toml:5:7: url "ftp://a.example/": scheme must be http or https`,
				`feeds.toml:9:1: invalid tag "Middle East" (did you mean "middle-east"?)`,
				`feeds.toml:12:7: duplicate feed https://b.example/ (first at line 8)`,
				`feeds.toml:13:12: interval 500ms is shorter than 1s`,
			},
		},
		{
			name: "private tags without a token, a bad tag table",
			doc: `[server]
private_tags = ["staff", "Bad Tag"]
token = "short"

[tags."Not A Slug"]
title = "x"
`,
			want: []string{
				`feeds.toml:2:1: invalid tag "Bad Tag"`,
				`feeds.toml:3:9: server.private_tags needs server.token, at least 16 characters long`,
				`feeds.toml:5:2: invalid tag "Not A Slug" in [tags.Not A Slug]`,
			},
		},
		{
			name: "bad duration",
			doc:  "[poll]\ntimeout = \"soon\"\n",
			want: []string{`feeds.toml:2:`, `invalid duration "soon"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("feeds.toml", []byte(tc.doc))
			if err == nil {
				t.Fatal("ParseConfig succeeded, want an error")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not a *ConfigError", err)
			}
			got := err.Error()
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error:\n%s\nwant it to contain, in order, %q", got, w)
				}
				rest = rest[i+len(w):]
			}
			if strings.Count(tc.want[0], ":") > 2 && strings.Count(got, "\n")+1 != len(tc.want) {
				t.Errorf("error has %d lines, want %d:\n%s", strings.Count(got, "\n")+1, len(tc.want), got)
			}
		})
	}
}
