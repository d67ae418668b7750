package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
)

// problems collects the problems of a configuration, each placed at the
// key it is about.
type problems struct {
	file string
	pos  map[string]unstable.Position
	errs []error
}

func (ps *problems) add(key, format string, args ...any) {
	p := ps.pos[key]
	ps.errs = append(ps.errs, &ConfigError{File: ps.file, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)})
}

// validate checks what the decoder cannot: URLs, tags, durations, repeats.
func (c *Config) validate(name string, pos map[string]unstable.Position) []error {
	ps := &problems{file: name, pos: pos}
	c.validatePoll(ps)
	c.validateServer(ps)
	c.validateStorage(ps)
	c.validateTopics(ps)
	c.validateFeeds(ps)
	c.validateContent(ps)
	c.validateWebSub(ps)
	return ps.errs
}

func (c *Config) validatePoll(ps *problems) {
	p := c.Poll
	if time.Duration(p.Interval) < feedmux.MinInterval {
		ps.add("poll.interval", "poll.interval %s is shorter than %s", time.Duration(p.Interval), feedmux.MinInterval)
	}
	if time.Duration(p.MinInterval) < feedmux.MinInterval {
		ps.add("poll.min_interval", "poll.min_interval %s is shorter than %s", time.Duration(p.MinInterval), feedmux.MinInterval)
	}
	if p.MaxInterval < p.MinInterval {
		ps.add("poll.max_interval", "poll.max_interval %s is shorter than poll.min_interval %s", time.Duration(p.MaxInterval), time.Duration(p.MinInterval))
	}
	if time.Duration(p.PushInterval) < feedmux.MinInterval {
		ps.add("poll.push_interval", "poll.push_interval %s is shorter than %s", time.Duration(p.PushInterval), feedmux.MinInterval)
	}
	if p.Concurrency < 1 {
		ps.add("poll.concurrency", "poll.concurrency must be at least 1")
	}
	if p.PerHost < 1 {
		ps.add("poll.per_host", "poll.per_host must be at least 1")
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"timeout", p.Timeout}, {"connect_timeout", p.ConnectTimeout}, {"tls_timeout", p.TLSTimeout}, {"header_timeout", p.HeaderTimeout}} {
		if d.v <= 0 {
			ps.add("poll."+d.key, "poll.%s must be positive", d.key)
		}
	}
	if p.MaxBody < 1024 {
		ps.add("poll.max_body", "poll.max_body must be at least 1024 bytes")
	}
}

func (c *Config) validateServer(ps *problems) {
	s := c.Server
	if s.BaseURL != "" {
		if err := feedmux.ValidateFeedURL(s.BaseURL); err != nil {
			ps.add("server.base_url", "server.base_url: %v", err)
		}
	}
	if s.RenderInterval < 0 || s.RenderInterval > Duration(time.Minute) {
		ps.add("server.render_interval", "server.render_interval must be between 0s and 1m")
	}
	if s.CacheMaxAge < 0 {
		ps.add("server.cache_max_age", "server.cache_max_age must not be negative")
	}
	for _, t := range s.PrivateTags {
		if !feedmux.ValidTag(t) {
			ps.add("server.private_tags", "invalid tag %q", t)
		}
	}
	if len(s.PrivateTags) > 0 && len(s.Token) < 16 {
		ps.add("server.token", "server.private_tags needs server.token, at least 16 characters long (try: openssl rand -hex 16)")
	}
	for _, t := range slices.Sorted(maps.Keys(c.Tags)) {
		if !feedmux.ValidTag(t) {
			ps.add("tags."+t, "invalid tag %q in [tags.%s]", t, t)
		}
		if v := c.Tags[t].View; v != "" && v != server.ViewItems && v != server.ViewStories {
			ps.add("tags."+t+".view", "tags.%s.view must be %q or %q, not %q", t, server.ViewItems, server.ViewStories, v)
		}
	}
}

func (c *Config) validateStorage(ps *problems) {
	if c.Storage.Path == "" && c.Storage.URL == "" {
		ps.add("storage.path", "storage.path is empty")
	}
	if u := c.Storage.URL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		ps.add("storage.url", "storage.url must be a PostgreSQL URL (postgres://user:password@host/database)")
	}
	if c.Storage.MaxAge < 0 {
		ps.add("storage.max_age", "storage.max_age must not be negative (0 keeps items forever)")
	}
	if c.Storage.MaxItemsPerFeed < 0 {
		ps.add("storage.max_items_per_feed", "storage.max_items_per_feed must not be negative (0: no limit)")
	}
	if c.Stories.Window < Duration(time.Hour) {
		ps.add("stories.window", "stories.window must be at least 1h")
	}
	if c.Stories.MaxItems < 0 {
		ps.add("stories.max_items", "stories.max_items must be 0 (no bound) or more")
	}
	if c.Stories.Threshold <= 0 || c.Stories.Threshold >= 1 {
		ps.add("stories.threshold", "stories.threshold must be between 0 and 1")
	}
}

func (c *Config) validateTopics(ps *problems) {
	for _, tag := range slices.Sorted(maps.Keys(c.Aliases)) {
		if !feedmux.ValidTag(tag) {
			ps.add("aliases."+tag, "invalid tag %q in [aliases]", tag)
		}
	}
	fields := []string{aggregator.FieldTitle, aggregator.FieldSummary, aggregator.FieldContent, aggregator.FieldCategories}
	for i, tp := range c.Topics {
		k := "topic." + strconv.Itoa(i)
		if !feedmux.ValidTag(tp.Tag) {
			ps.add(k+".tag", "topic tag %q is not a valid tag", tp.Tag)
		}
		if len(tp.Match) == 0 && len(tp.Regex) == 0 {
			ps.add(k, "topic %q has neither match nor regex", tp.Tag)
		}
		for _, re := range tp.Regex {
			if _, err := regexp.Compile(re); err != nil {
				ps.add(k+".regex", "topic %q: regex %q does not compile: %v", tp.Tag, re, err)
			}
		}
		for _, f := range tp.Fields {
			if !slices.Contains(fields, f) {
				ps.add(k+".fields", "topic %q: unknown field %q (title, summary, content, categories)", tp.Tag, f)
			}
		}
		for _, t := range tp.FeedsTagged {
			if !feedmux.ValidTag(t) {
				ps.add(k+".feeds_tagged", "topic %q: invalid tag %q in feeds_tagged", tp.Tag, t)
			}
		}
	}
}

func (c *Config) validateFeeds(ps *problems) {
	seen := map[string]int{}
	for i, f := range c.Feeds {
		k := "feed." + strconv.Itoa(i)
		if f.URL == "" {
			ps.add(k, "feed without url")
			continue
		}
		if err := feedmux.ValidateFeedURL(f.URL); err != nil {
			ps.add(k+".url", "%v", err)
		}
		if j, dup := seen[f.URL]; dup {
			ps.add(k+".url", "duplicate feed %s (first at line %d)", f.URL, ps.pos["feed."+strconv.Itoa(j)+".url"].Line)
		}
		seen[f.URL] = i
		for _, t := range f.Tags {
			if !feedmux.ValidTag(t) {
				if s := feedmux.TagSlug(t); s != "" {
					ps.add(k+".tags", "invalid tag %q (did you mean %q?)", t, s)
				} else {
					ps.add(k+".tags", "invalid tag %q", t)
				}
			}
		}
		if f.Interval != 0 && time.Duration(f.Interval) < feedmux.MinInterval {
			ps.add(k+".interval", "interval %s is shorter than %s", time.Duration(f.Interval), feedmux.MinInterval)
		}
		validateRewrite(ps, k, f)
	}
}

// validateRewrite checks a feed's scrape selectors, remove selectors and
// title replacements.
func validateRewrite(ps *problems, k string, f FeedConfig) {
	if sc := f.Scrape; sc != nil {
		if sc.Items == "" || sc.Title == "" || sc.Link == "" {
			ps.add(k+".scrape", "[feed.scrape] needs items, title and link selectors")
		}
		for key, sel := range map[string]string{"items": sc.Items, "title": sc.Title, "link": sc.Link, "date": sc.Date, "summary": sc.Summary} {
			if err := aggregator.CheckSelector(sel, key != "items"); err != nil {
				ps.add(k+".scrape."+key, "scrape %s: %v", key, err)
			}
		}
	}
	for _, sel := range f.Remove {
		if sel == "" {
			ps.add(k+".remove", "remove: empty selector")
		} else if err := aggregator.CheckSelector(sel, false); err != nil {
			ps.add(k+".remove", "remove: selector %q: %v", sel, err)
		}
	}
	for _, r := range f.TitleReplace {
		if len(r) != 2 {
			ps.add(k+".title_replace", "title_replace: want pairs [pattern, replacement], got %q", r)
			continue
		}
		if _, err := regexp.Compile(r[0]); err != nil {
			ps.add(k+".title_replace", "title_replace: regex %q does not compile: %v", r[0], err)
		}
	}
}

func (c *Config) validateContent(ps *problems) {
	if _, err := aggregator.ParseNetworks(c.Content.AllowNetworks); err != nil {
		ps.add("content.allow_networks", "%v", err)
	}
	if c.Content.Workers < 1 {
		ps.add("content.workers", "workers must be at least 1, not %d", c.Content.Workers)
	}
}

func (c *Config) validateWebSub(ps *problems) {
	w := c.WebSub
	if w.Hub != "" {
		if err := feedmux.ValidateFeedURL(w.Hub); err != nil {
			ps.add("websub.hub", "websub.hub: %v", err)
		}
		if c.Server.BaseURL == "" {
			ps.add("websub.hub", "websub.hub needs server.base_url: an external hub must be told the public URLs of the feeds")
		}
	}
	if w.MaxSubscriptions < 1 {
		ps.add("websub.max_subscriptions", "websub.max_subscriptions must be at least 1")
	}
	if w.MaxPerHost < 1 {
		ps.add("websub.max_per_host", "websub.max_per_host must be at least 1")
	}
}
