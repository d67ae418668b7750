package main

import (
	"reflect"
	"slices"
	"strings"
)

// liveKeys are the configuration keys Reload applies to the running daemon.
// Every other key is read once at start, and Reload logs a change to it as
// needing a restart: a key missing here can be forgotten but never ignored
// silently.
var liveKeys = map[string]bool{
	"server.base_url":        true, // server.Configure, Subscriber.SetBaseURL
	"server.cache_max_age":   true,
	"server.render_interval": true,
	"server.private_tags":    true,
	"server.token":           true,
	"tags":                   true,
	"poll.interval":          true, // Poller.SetFeeds: each feed's interval
	"poll.min_interval":      true, // Poller.SetIntervals
	"poll.max_interval":      true,
	"poll.push_interval":     true, // Poller.SetPushInterval
	"poll.timeout":           true, // Poller.SetFetcher
	"poll.connect_timeout":   true,
	"poll.tls_timeout":       true,
	"poll.header_timeout":    true,
	"poll.max_body":          true,
	"poll.user_agent":        true,
	"aliases":                true, // Poller.SetRules, then stored items are re-tagged
	"topic":                  true,
	"feed":                   true, // Poller.SetFeeds
	"content.allow_networks": true, // Pages.SetFetcher, Subscriber.SetFetcher
}

// configKeys lists the keys of a configuration with their values: each
// key of the [server], [storage], [poll] and [stories] tables on its own,
// and [tags], [aliases], [[topic]] and [[feed]] each as a whole.
func configKeys(c Config) map[string]any {
	keys := map[string]any{}
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		name := tomlName(v.Type().Field(i))
		f := v.Field(i)
		if f.Kind() != reflect.Struct {
			keys[name] = f.Interface()
			continue
		}
		for j := range f.NumField() {
			keys[name+"."+tomlName(f.Type().Field(j))] = f.Field(j).Interface()
		}
	}
	return keys
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

// restartNeeded returns the keys that differ between two configurations
// and that Reload does not apply, sorted.
func restartNeeded(old, cfg Config) []string {
	was, now := configKeys(old), configKeys(cfg)
	var keys []string
	for k, v := range now {
		if !liveKeys[k] && !reflect.DeepEqual(was[k], v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
