package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
)

// errReported is a failure already explained on the output: the process
// exits 1 without another message.
var errReported = errors.New("reported")

// runCheck validates a configuration: every problem on its own line as
// FILE:LINE:COL: message, and exit status 1; or a summary and 0.
func runCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration `file` (env FEEDMUX_CONFIG, default ./feeds.toml)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: feedmux check [-config PATH]\n\nValidates the configuration and reports every problem with its line and column.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	path := configFile(*configPath, getenv)
	cfg, err := LoadConfig(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errReported
	}
	tags := map[string]bool{}
	for _, f := range cfg.Feeds {
		for _, t := range f.Tags {
			tags[t] = true
		}
	}
	for t := range cfg.Aliases {
		tags[t] = true
	}
	for _, tp := range cfg.Topics {
		tags[tp.Tag] = true
	}
	fmt.Fprintf(stdout, "%s: ok: %d feeds, %d tags (%v), %d topic rules\n", path, len(cfg.Feeds), len(tags),
		slices.Sorted(maps.Keys(tags)), len(cfg.Topics))
	return nil
}

// configFile is the configuration path from the flag, else FEEDMUX_CONFIG,
// else ./feeds.toml.
func configFile(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := getenv("FEEDMUX_CONFIG"); v != "" {
		return v
	}
	return "feeds.toml"
}
