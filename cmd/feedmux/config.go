package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/storage"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Config is the content of feeds.toml.
type Config struct {
	Server  ServerConfig         `toml:"server"`
	Storage StorageConfig        `toml:"storage"`
	Poll    PollConfig           `toml:"poll"`
	Tags    map[string]TagConfig `toml:"tags"`
	Aliases map[string][]string  `toml:"aliases"`
	Topics  []TopicConfig        `toml:"topic"`
	Stories StoriesConfig        `toml:"stories"`
	Feeds   []FeedConfig         `toml:"feed"`
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	Listen  string `toml:"listen"`
	BaseURL string `toml:"base_url"`
	// CacheMaxAge is the Cache-Control max-age of output feeds.
	CacheMaxAge Duration `toml:"cache_max_age"`
	// RenderInterval is the shortest time between two renders of a feed.
	RenderInterval Duration `toml:"render_interval"`
	// PrivateTags are served only with ?token= equal to Token.
	PrivateTags []string `toml:"private_tags"`
	Token       string   `toml:"token"`
}

// TagConfig is a [tags.NAME] table: how a tag's feed presents itself.
type TagConfig struct {
	Title       string `toml:"title"`
	Description string `toml:"description"`
}

// StorageConfig is the [storage] table.
type StorageConfig struct {
	Path string `toml:"path"`
	// MaxAge and MaxItemsPerFeed bound what is kept; 0 turns a limit off.
	MaxAge          Duration `toml:"max_age"`
	MaxItemsPerFeed int      `toml:"max_items_per_feed"`
}

// PollConfig is the [poll] table.
type PollConfig struct {
	Interval       Duration `toml:"interval"`
	MinInterval    Duration `toml:"min_interval"`
	MaxInterval    Duration `toml:"max_interval"`
	Concurrency    int      `toml:"concurrency"`
	PerHost        int      `toml:"per_host"`
	Timeout        Duration `toml:"timeout"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	TLSTimeout     Duration `toml:"tls_timeout"`
	HeaderTimeout  Duration `toml:"header_timeout"`
	MaxBody        int64    `toml:"max_body"`
	UserAgent      string   `toml:"user_agent"`
}

// FeedConfig is one [[feed]] entry.
type FeedConfig struct {
	URL        string   `toml:"url"`
	Title      string   `toml:"title"`
	Tags       []string `toml:"tags"`
	Interval   Duration `toml:"interval"`
	Categories *bool    `toml:"categories"`
	Include    []string `toml:"include"`
	Exclude    []string `toml:"exclude"`
}

// TopicConfig is a [[topic]] rule: tag items by what they say.
type TopicConfig struct {
	Tag         string   `toml:"tag"`
	Match       []string `toml:"match"`
	Regex       []string `toml:"regex"`
	Fields      []string `toml:"fields"`
	Exclude     []string `toml:"exclude"`
	FeedsTagged []string `toml:"feeds_tagged"`
}

// StoriesConfig is the [stories] table: grouping items into stories.
type StoriesConfig struct {
	Window    Duration `toml:"window"`
	Threshold float64  `toml:"threshold"`
}

// Duration is a Go duration written as a string ("15m").
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a Go duration such as \"15m\")", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultConfig returns the configuration used for every key feeds.toml
// leaves out.
func DefaultConfig() Config {
	return Config{
		Server: ServerConfig{Listen: ":8080", CacheMaxAge: Duration(server.DefaultMaxAge)},
		Stories: StoriesConfig{
			Window:    Duration(aggregator.DefaultStoryConfig.Window),
			Threshold: aggregator.DefaultStoryConfig.Threshold,
		},
		Storage: StorageConfig{Path: "data/feedmux.db", MaxAge: Duration(90 * 24 * time.Hour), MaxItemsPerFeed: 1000},
		Poll: PollConfig{
			Interval:       Duration(15 * time.Minute),
			MinInterval:    Duration(time.Minute),
			MaxInterval:    Duration(24 * time.Hour),
			Concurrency:    8,
			PerHost:        2,
			Timeout:        Duration(30 * time.Second),
			ConnectTimeout: Duration(10 * time.Second),
			TLSTimeout:     Duration(10 * time.Second),
			HeaderTimeout:  Duration(30 * time.Second),
			MaxBody:        10 << 20,
		},
	}
}

// ConfigError is one problem in a configuration file, at a line and column
// (1-based; 0 when the problem has no single place).
type ConfigError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// LoadConfig reads the configuration file at path over DefaultConfig. It
// reports every problem it finds at once, each a *ConfigError, joined.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a configuration document; name is used in errors.
func ParseConfig(name string, data []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var errs []error
	if err := dec.Decode(&cfg); err != nil {
		var strict *toml.StrictMissingError
		if !errors.As(err, &strict) {
			return Config{}, decodeErrors(name, err)
		}
		// Unknown keys: the rest was decoded, so report its problems too.
		errs = append(errs, decodeErrors(name, err).(interface{ Unwrap() []error }).Unwrap()...)
	}
	errs = append(errs, cfg.validate(name, positions(data))...)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b error) int {
			var ca, cb *ConfigError
			errors.As(a, &ca)
			errors.As(b, &cb)
			if ca == nil || cb == nil {
				return 0
			}
			return cmp.Or(cmp.Compare(ca.Line, cb.Line), cmp.Compare(ca.Column, cb.Column))
		})
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

func decodeErrors(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for _, de := range strict.Errors {
			line, col := de.Position()
			errs = append(errs, &ConfigError{File: name, Line: line, Column: col,
				Msg: fmt.Sprintf("unknown key %q", strings.Join(de.Key(), "."))})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := de.Error()
		if k := de.Key(); len(k) > 0 {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return &ConfigError{File: name, Line: line, Column: col, Msg: msg}
	}
	return &ConfigError{File: name, Msg: err.Error()}
}

// validate checks what the decoder cannot: URLs, tags, durations, repeats.
func (c *Config) validate(name string, pos map[string]unstable.Position) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		p := pos[key]
		errs = append(errs, &ConfigError{File: name, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)})
	}
	if time.Duration(c.Poll.Interval) < feedmux.MinInterval {
		add("poll.interval", "poll.interval %s is shorter than %s", time.Duration(c.Poll.Interval), feedmux.MinInterval)
	}
	if time.Duration(c.Poll.MinInterval) < feedmux.MinInterval {
		add("poll.min_interval", "poll.min_interval %s is shorter than %s", time.Duration(c.Poll.MinInterval), feedmux.MinInterval)
	}
	if c.Poll.MaxInterval < c.Poll.MinInterval {
		add("poll.max_interval", "poll.max_interval %s is shorter than poll.min_interval %s", time.Duration(c.Poll.MaxInterval), time.Duration(c.Poll.MinInterval))
	}
	if c.Poll.Concurrency < 1 {
		add("poll.concurrency", "poll.concurrency must be at least 1")
	}
	if c.Poll.PerHost < 1 {
		add("poll.per_host", "poll.per_host must be at least 1")
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"timeout", c.Poll.Timeout}, {"connect_timeout", c.Poll.ConnectTimeout}, {"tls_timeout", c.Poll.TLSTimeout}, {"header_timeout", c.Poll.HeaderTimeout}} {
		if d.v <= 0 {
			add("poll."+d.key, "poll.%s must be positive", d.key)
		}
	}
	if c.Poll.MaxBody < 1024 {
		add("poll.max_body", "poll.max_body must be at least 1024 bytes")
	}
	if c.Server.BaseURL != "" {
		if err := feedmux.ValidateFeedURL(c.Server.BaseURL); err != nil {
			add("server.base_url", "server.base_url: %v", err)
		}
	}
	if c.Server.RenderInterval < 0 || c.Server.RenderInterval > Duration(time.Minute) {
		add("server.render_interval", "server.render_interval must be between 0s and 1m")
	}
	if c.Server.CacheMaxAge < 0 {
		add("server.cache_max_age", "server.cache_max_age must not be negative")
	}
	for _, t := range c.Server.PrivateTags {
		if !feedmux.ValidTag(t) {
			add("server.private_tags", "invalid tag %q", t)
		}
	}
	if len(c.Server.PrivateTags) > 0 && len(c.Server.Token) < 16 {
		add("server.token", "server.private_tags needs server.token, at least 16 characters long (try: openssl rand -hex 16)")
	}
	for _, t := range slices.Sorted(maps.Keys(c.Tags)) {
		if !feedmux.ValidTag(t) {
			add("tags."+t, "invalid tag %q in [tags.%s]", t, t)
		}
	}
	if c.Storage.Path == "" {
		add("storage.path", "storage.path is empty")
	}
	if c.Storage.MaxAge < 0 {
		add("storage.max_age", "storage.max_age must not be negative (0 keeps items forever)")
	}
	if c.Storage.MaxItemsPerFeed < 0 {
		add("storage.max_items_per_feed", "storage.max_items_per_feed must not be negative (0: no limit)")
	}
	if c.Stories.Window < Duration(time.Hour) {
		add("stories.window", "stories.window must be at least 1h")
	}
	if c.Stories.Threshold <= 0 || c.Stories.Threshold >= 1 {
		add("stories.threshold", "stories.threshold must be between 0 and 1")
	}
	for _, tag := range slices.Sorted(maps.Keys(c.Aliases)) {
		if !feedmux.ValidTag(tag) {
			add("aliases."+tag, "invalid tag %q in [aliases]", tag)
		}
	}
	for i, tp := range c.Topics {
		k := "topic." + strconv.Itoa(i)
		if !feedmux.ValidTag(tp.Tag) {
			add(k+".tag", "topic tag %q is not a valid tag", tp.Tag)
		}
		if len(tp.Match) == 0 && len(tp.Regex) == 0 {
			add(k, "topic %q has neither match nor regex", tp.Tag)
		}
		for _, re := range tp.Regex {
			if _, err := regexp.Compile(re); err != nil {
				add(k+".regex", "topic %q: regex %q does not compile: %v", tp.Tag, re, err)
			}
		}
		for _, f := range tp.Fields {
			if !slices.Contains([]string{aggregator.FieldTitle, aggregator.FieldSummary, aggregator.FieldContent, aggregator.FieldCategories}, f) {
				add(k+".fields", "topic %q: unknown field %q (title, summary, content, categories)", tp.Tag, f)
			}
		}
		for _, t := range tp.FeedsTagged {
			if !feedmux.ValidTag(t) {
				add(k+".feeds_tagged", "topic %q: invalid tag %q in feeds_tagged", tp.Tag, t)
			}
		}
	}
	seen := map[string]int{}
	for i, f := range c.Feeds {
		k := "feed." + strconv.Itoa(i)
		if f.URL == "" {
			add(k, "feed without url")
			continue
		}
		if err := feedmux.ValidateFeedURL(f.URL); err != nil {
			add(k+".url", "%v", err)
		}
		if j, dup := seen[f.URL]; dup {
			p := pos["feed."+strconv.Itoa(j)+".url"]
			add(k+".url", "duplicate feed %s (first at line %d)", f.URL, p.Line)
		}
		seen[f.URL] = i
		for _, t := range f.Tags {
			if !feedmux.ValidTag(t) {
				if s := feedmux.TagSlug(t); s != "" {
					add(k+".tags", "invalid tag %q (did you mean %q?)", t, s)
				} else {
					add(k+".tags", "invalid tag %q", t)
				}
			}
		}
		if f.Interval != 0 && time.Duration(f.Interval) < feedmux.MinInterval {
			add(k+".interval", "interval %s is shorter than %s", time.Duration(f.Interval), feedmux.MinInterval)
		}
	}
	return errs
}

// FeedList returns the configured feeds as domain values.
func (c *Config) FeedList() []feedmux.Feed {
	feeds := make([]feedmux.Feed, 0, len(c.Feeds))
	for _, f := range c.Feeds {
		feed := feedmux.Feed{
			URL:        f.URL,
			Title:      f.Title,
			Tags:       f.Tags,
			Interval:   time.Duration(c.Poll.Interval),
			Categories: f.Categories == nil || *f.Categories,
			Include:    f.Include,
			Exclude:    f.Exclude,
		}
		if f.Interval != 0 {
			feed.Interval = time.Duration(f.Interval)
		}
		feeds = append(feeds, feed)
	}
	return feeds
}

// positions maps the keys of a TOML document to where their values start:
// "poll.interval", "feed.0" (the table header), "feed.0.url". It is best
// effort: a document the decoder accepted parses here too.
func positions(data []byte) map[string]unstable.Position {
	pos := map[string]unstable.Position{}
	var (
		p      unstable.Parser
		prefix string
		arrays = map[string]int{}
	)
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = keyPath(e)
			if e.Kind == unstable.ArrayTable {
				n := arrays[prefix]
				arrays[prefix] = n + 1
				prefix += "." + strconv.Itoa(n)
			}
			it := e.Key()
			it.Next()
			pos[prefix] = p.Shape(it.Node().Raw).Start
		case unstable.KeyValue:
			k := keyPath(e)
			if prefix != "" {
				k = prefix + "." + k
			}
			r := e.Value().Raw
			if r.Length == 0 { // arrays and inline tables: point at the key
				it := e.Key()
				it.Next()
				r = it.Node().Raw
			}
			pos[k] = p.Shape(r).Start
		}
	}
	return pos
}

func keyPath(n *unstable.Node) string {
	var parts []string
	for it := n.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

// ServerConfig returns what the HTTP server's output depends on.
func (c *Config) ServerConfig() server.Config {
	sc := server.Config{
		BaseURL:        c.Server.BaseURL,
		MaxAge:         time.Duration(c.Server.CacheMaxAge),
		RenderInterval: time.Duration(c.Server.RenderInterval),
		PrivateTags:    c.Server.PrivateTags,
		Token:          c.Server.Token,
		Version:        Version(),
	}
	if len(c.Tags) > 0 {
		sc.Tags = make(map[string]server.TagInfo, len(c.Tags))
		for t, tc := range c.Tags {
			sc.Tags[t] = server.TagInfo(tc)
		}
	}
	return sc
}

// Rules returns the configured aliases and topic rules.
func (c *Config) Rules() aggregator.Rules {
	r := aggregator.Rules{Aliases: c.Aliases}
	for _, tp := range c.Topics {
		r.Topics = append(r.Topics, aggregator.Topic(tp))
	}
	return r
}

// StoryConfig returns the configured story grouping.
func (c *Config) StoryConfig() aggregator.StoryConfig {
	return aggregator.StoryConfig{Window: time.Duration(c.Stories.Window), Threshold: c.Stories.Threshold}
}

// Retention returns the configured storage limits.
func (c *Config) Retention() storage.Retention {
	return storage.Retention{MaxAge: time.Duration(c.Storage.MaxAge), MaxItemsPerFeed: c.Storage.MaxItemsPerFeed}
}
