package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pelletier/go-toml/v2"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/server"
)

// TestReload_EveryKey changes every key of the configuration, one at a
// time, under a running daemon: either the running parts take the new
// value, or Reload logs that the key needs a restart. The keys come from
// the Config struct itself, so a key added later is covered too.
func TestReload_EveryKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>s</title><link>https://s.example/</link><description>d</description></channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	base := DefaultConfig()
	base.Server.Listen = "127.0.0.1:0"
	base.Server.Token = "0123456789abcdef0123"
	base.Storage.Path = filepath.Join(dir, "feedmux.db")
	base.Poll.Interval = Duration(time.Hour)
	base.Feeds = []FeedConfig{{URL: srv.URL + "/a", Tags: []string{"x"}}}
	config := filepath.Join(dir, "feeds.toml")
	writeTOML(t, config, base)

	m := NewMain()
	if err := m.ParseFlags([]string{"-config", config, "-log-level", "error"}, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	m.WatchInterval = -1 // Reload is called by the test alone
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	logs := &warnings{}
	m.log = slog.New(logs)

	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range configKeys(base) {
			if !yield(k) {
				return
			}
		}
	})
	if len(keys) < 25 {
		t.Fatalf("only %d keys found in Config: %v", len(keys), keys)
	}
	before := running(m)
	for _, key := range keys {
		changed := changeKey(t, base, key, srv.URL)
		if reflect.DeepEqual(configKeys(changed)[key], configKeys(base)[key]) {
			t.Fatalf("%s: the test did not change it", key)
		}
		logs.reset()
		read := writeTOML(t, config, changed)
		if err := m.Reload(); err != nil {
			t.Fatalf("%s: reload: %v", key, err)
		}
		restart := logs.settings()
		switch {
		case liveKeys[key]:
			if len(restart) > 0 {
				t.Errorf("%s is applied on reload, but a restart was asked for %v", key, restart)
			}
			now := running(m)
			if diff := cmp.Diff(want(read), now, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: the running parts do not hold the new value (-want +running):\n%s", key, diff)
			}
			if cmp.Equal(before, now, cmpopts.EquateEmpty()) {
				t.Errorf("%s: changing it changed nothing in the running parts", key)
			}
		case !slices.Equal(restart, []string{key}):
			t.Errorf("%s is not applied on reload: want a warning that it needs a restart, got %v", key, restart)
		}
		writeTOML(t, config, base)
		if err := m.Reload(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, running(m), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: back to the first configuration, the running parts differ:\n%s", key, diff)
		}
	}
}

// runningParts is what the daemon's running parts hold of a configuration.
type runningParts struct {
	Server    server.Config
	Feeds     []feedmux.Feed
	Intervals [2]time.Duration
	Fetch     aggregator.FetcherConfig
	Rules     string
	Allowed   []string // the networks the article fetcher's guard allows
	Push      time.Duration
	PushBase  string // the base URL of the WebSub callbacks
}

func running(m *Main) runningParts {
	lo, hi := m.Poller.Intervals()
	return runningParts{m.Server.Config(), m.Poller.Feeds(), [2]time.Duration{lo, hi},
		m.Poller.Fetcher().Config(), m.Poller.Rules().Fingerprint(), m.Poller.Pages.AllowNetworks(),
		m.Poller.PushInterval(), m.Poller.Push.BaseURL()}
}

// want is what the running parts should hold of cfg.
func want(cfg Config) runningParts {
	tagger, err := aggregator.NewTagger(cfg.Rules())
	if err != nil {
		panic(err)
	}
	return runningParts{cfg.ServerConfig(), cfg.FeedList(),
		[2]time.Duration{time.Duration(cfg.Poll.MinInterval), time.Duration(cfg.Poll.MaxInterval)},
		cfg.FetcherConfig(), tagger.Fingerprint(), cfg.Content.AllowNetworks,
		time.Duration(cfg.Poll.PushInterval), strings.TrimSuffix(cfg.Server.BaseURL, "/")}
}

// changeKey returns base with key set to another valid value.
func changeKey(t *testing.T, base Config, key, feedBase string) Config {
	t.Helper()
	c := base
	c.Feeds = slices.Clone(base.Feeds)
	table, field, _ := strings.Cut(key, ".")
	v := reflect.ValueOf(&c).Elem()
	f := v.FieldByNameFunc(func(n string) bool { sf, _ := v.Type().FieldByName(n); return tomlName(sf) == table })
	if field != "" {
		tv := f
		f = tv.FieldByNameFunc(func(n string) bool { sf, _ := tv.Type().FieldByName(n); return tomlName(sf) == field })
	}
	switch key {
	case "server.listen":
		f.SetString("127.0.0.1:1")
	case "server.base_url":
		f.SetString("https://news.example.org")
	case "server.private_tags":
		f.Set(reflect.ValueOf([]string{"staff"}))
	case "content.allow_networks":
		f.Set(reflect.ValueOf([]string{"127.0.0.1/32"}))
	case "websub.hub":
		f.SetString("https://hub.example.org/")
		c.Server.BaseURL = "https://news.example.org" // an external hub needs it
	case "storage.url":
		f.SetString("postgres://feedmux@db.example/feedmux")
	case "storage.path":
		f.SetString(base.Storage.Path + ".other")
	case "tags":
		f.Set(reflect.ValueOf(map[string]TagConfig{"x": {Title: "X, every source"}}))
	case "aliases":
		f.Set(reflect.ValueOf(map[string][]string{"x": {"Ex"}}))
	case "topic":
		f.Set(reflect.ValueOf([]TopicConfig{{Tag: "y", Match: []string{"why"}}}))
	case "feed":
		c.Feeds = append(c.Feeds, FeedConfig{URL: feedBase + "/b", Tags: []string{"y"}})
	default:
		switch f.Interface().(type) {
		case string:
			f.SetString(f.String() + "-changed")
		case Duration:
			f.SetInt(f.Int() + int64(time.Second))
		case int, int64:
			f.SetInt(f.Int() + 1)
		case float64:
			f.SetFloat(f.Float() + 0.01)
		default:
			t.Fatalf("%s: the test does not know how to change a %T", key, f.Interface())
		}
	}
	return c
}

// writeTOML writes c to path and returns it as the daemon reads it.
func writeTOML(t *testing.T, path string, c Config) Config {
	t.Helper()
	data, err := toml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ParseConfig(path, data)
	if err != nil {
		t.Fatalf("the test wrote a configuration that does not load: %v\n%s", err, data)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return read
}

// warnings is a slog handler that keeps the "setting" of every warning
// that a configuration change needs a restart.
type warnings struct {
	mu   sync.Mutex
	keys []string
}

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *warnings) WithGroup(string) slog.Handler            { return w }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "restart") {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "setting" {
			w.keys = append(w.keys, a.Value.String())
		}
		return true
	})
	if len(w.keys) == 0 {
		w.keys = append(w.keys, fmt.Sprint("(no setting named) ", r.Message))
	}
	return nil
}

func (w *warnings) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keys = nil
}

func (w *warnings) settings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.keys)
}
