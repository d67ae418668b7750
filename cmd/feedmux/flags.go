package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
)

// ParseFlags reads the serve flags, the FEEDMUX_* environment and the
// configuration file, in that order of precedence.
func (m *Main) ParseFlags(args []string, stderr io.Writer, getenv func(string) string) error {
	command := cmp.Or(m.command, "serve")
	about := map[string]string{
		"serve":       "Polls the feeds of the configuration and serves one merged feed per tag.",
		"fetch":       "Polls every feed of the configuration once, stores what they hold, prints a summary and exits.",
		"healthcheck": "Asks the feedmux serving on the configured address for /healthz; exits 0 when healthy, 1 when not.",
	}[command]
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration `file` (env FEEDMUX_CONFIG, default ./feeds.toml)")
	dbPath := fs.String("db", "", "SQLite database `file` (env FEEDMUX_DB, default [storage] path: ./data/feedmux.db)")
	listen := fs.String("listen", "", "HTTP listen `address` (env FEEDMUX_LISTEN, default [server] listen: :8080)")
	logFormat := fs.String("log-format", "text", "log format: text or json (env FEEDMUX_LOG_FORMAT)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error (env FEEDMUX_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: feedmux %s [flags]\n\n%s\n\nFlags:\n", command, about)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "feedmux %s: unexpected argument %q\n", command, fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	pick := func(name, env string, flagValue *string) {
		if !set[name] {
			if v := getenv(env); v != "" {
				*flagValue = v
			}
		}
	}
	pick("db", "FEEDMUX_DB", dbPath)
	pick("listen", "FEEDMUX_LISTEN", listen)
	pick("log-format", "FEEDMUX_LOG_FORMAT", logFormat)
	pick("log-level", "FEEDMUX_LOG_LEVEL", logLevel)

	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "feedmux serve:", err)
		return errUsage
	}
	m.log = log
	m.ConfigPath = configFile(*configPath, getenv)
	m.configStat, _ = os.Stat(m.ConfigPath) // before reading: a change after it is seen
	cfg, err := LoadConfig(m.ConfigPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	dbURL := getenv("FEEDMUX_DB_URL")
	m.override = func(c *Config) {
		if *dbPath != "" {
			c.Storage.Path = *dbPath
		}
		if dbURL != "" {
			c.Storage.URL = dbURL
		}
		if *listen != "" {
			c.Server.Listen = *listen
		}
	}
	m.override(&cfg)
	m.Config = cfg
	return nil
}
