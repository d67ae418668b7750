package main

import (
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
	"github.com/feedmux/feedmux/websub"
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
	Content ContentConfig        `toml:"content"`
	WebSub  WebSubConfig         `toml:"websub"`
	Feeds   []FeedConfig         `toml:"feed"`
}

// WebSubConfig is the [websub] table: the hub every output feed names.
type WebSubConfig struct {
	// Hub is an external hub that output feeds name instead of feedmux's
	// own, and that feedmux pings on each change; "" for the built-in
	// hub at {base_url}/websub.
	Hub string `toml:"hub"`
	// MaxSubscriptions and MaxPerHost bound the built-in hub's
	// subscriptions, in all and per callback host.
	MaxSubscriptions int `toml:"max_subscriptions"`
	MaxPerHost       int `toml:"max_per_host"`
}

// ContentConfig is the [content] table: fetching the pages items link to.
type ContentConfig struct {
	// AllowNetworks are the private or reserved networks (CIDR) that
	// article fetches may reach; none by default.
	AllowNetworks []string `toml:"allow_networks"`
	// Workers bounds the pages fetched at once.
	Workers int `toml:"workers"`
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
	// View is what the tag's feeds serve by default: "items" or "stories".
	View string `toml:"view"`
}

// StorageConfig is the [storage] table.
type StorageConfig struct {
	Path string `toml:"path"`
	// URL, when set, is a PostgreSQL database (postgres://…) used instead
	// of the SQLite file at Path; several feedmux processes may share it.
	URL string `toml:"url"`
	// MaxAge and MaxItemsPerFeed bound what is kept; 0 turns a limit off.
	MaxAge          Duration `toml:"max_age"`
	MaxItemsPerFeed int      `toml:"max_items_per_feed"`
}

// PollConfig is the [poll] table.
type PollConfig struct {
	Interval       Duration `toml:"interval"`
	MinInterval    Duration `toml:"min_interval"`
	MaxInterval    Duration `toml:"max_interval"`
	PushInterval   Duration `toml:"push_interval"` // the polling of feeds a WebSub hub pushes
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

	FullContent  bool          `toml:"full_content"`
	Scrape       *ScrapeConfig `toml:"scrape"`
	Remove       []string      `toml:"remove"`
	TitleReplace [][]string    `toml:"title_replace"`
}

// ScrapeConfig is a [feed.scrape] table: items read from an HTML page.
type ScrapeConfig struct {
	Items   string `toml:"items"`
	Title   string `toml:"title"`
	Link    string `toml:"link"`
	Date    string `toml:"date"`
	Summary string `toml:"summary"`
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
	MaxItems  int      `toml:"max_items"`
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
			MaxItems:  aggregator.DefaultStoryConfig.MaxItems,
		},
		Content: ContentConfig{Workers: aggregator.DefaultPageWorkers},
		WebSub:  WebSubConfig{MaxSubscriptions: websub.DefaultMaxSubscriptions, MaxPerHost: websub.DefaultMaxPerHost},
		Storage: StorageConfig{Path: "data/feedmux.db", MaxAge: Duration(90 * 24 * time.Hour), MaxItemsPerFeed: 1000},
		Poll: PollConfig{
			Interval:       Duration(aggregator.DefaultInterval),
			MinInterval:    Duration(aggregator.DefaultMinInterval),
			MaxInterval:    Duration(aggregator.DefaultMaxInterval),
			PushInterval:   Duration(aggregator.DefaultPushInterval),
			Concurrency:    aggregator.DefaultConcurrency,
			PerHost:        aggregator.DefaultPerHost,
			Timeout:        Duration(aggregator.DefaultTimeout),
			ConnectTimeout: Duration(aggregator.DefaultConnectTimeout),
			TLSTimeout:     Duration(aggregator.DefaultTLSTimeout),
			HeaderTimeout:  Duration(aggregator.DefaultTimeout), // the fetcher's own default: Timeout
			MaxBody:        aggregator.DefaultMaxBody,
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

			FullContent: f.FullContent,
			Remove:      f.Remove,
		}
		if f.Scrape != nil {
			feed.Scrape = (*feedmux.Scrape)(f.Scrape)
		}
		for _, r := range f.TitleReplace {
			if len(r) == 2 {
				feed.TitleReplace = append(feed.TitleReplace, [2]string{r[0], r[1]})
			}
		}
		if f.Interval != 0 {
			feed.Interval = time.Duration(f.Interval)
		}
		feeds = append(feeds, feed)
	}
	return feeds
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
		Hub:            c.WebSub.Hub,
	}
	if len(c.Tags) > 0 {
		sc.Tags = make(map[string]server.TagInfo, len(c.Tags))
		for t, tc := range c.Tags {
			sc.Tags[t] = server.TagInfo(tc)
		}
	}
	return sc
}

// FetcherConfig returns the settings of the poller's HTTP client.
func (c *Config) FetcherConfig() aggregator.FetcherConfig {
	ua := c.Poll.UserAgent
	if ua == "" {
		ua = "feedmux/" + Version() + " (+" + ProjectURL + ")"
	}
	return aggregator.FetcherConfig{
		Timeout:        time.Duration(c.Poll.Timeout),
		ConnectTimeout: time.Duration(c.Poll.ConnectTimeout),
		TLSTimeout:     time.Duration(c.Poll.TLSTimeout),
		HeaderTimeout:  time.Duration(c.Poll.HeaderTimeout),
		MaxBody:        c.Poll.MaxBody,
		UserAgent:      ua,
	}
}

// ContentFetcherConfig returns the settings of the client that fetches
// article pages: the poller's, behind the network guard.
func (c *Config) ContentFetcherConfig() aggregator.FetcherConfig {
	fc := c.FetcherConfig()
	allow, _ := aggregator.ParseNetworks(c.Content.AllowNetworks) // validated
	fc.Guard = aggregator.NewGuard(allow)
	return fc
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
	return aggregator.StoryConfig{Window: time.Duration(c.Stories.Window), Threshold: c.Stories.Threshold, MaxItems: c.Stories.MaxItems}
}

// Retention returns the configured storage limits.
func (c *Config) Retention() feedmux.Retention {
	return feedmux.Retention{MaxAge: time.Duration(c.Storage.MaxAge), MaxItemsPerFeed: c.Storage.MaxItemsPerFeed}
}
