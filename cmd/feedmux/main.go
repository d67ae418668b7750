// Command feedmux polls the news feeds listed in feeds.toml, stores their
// items in SQLite and serves one merged feed per tag over HTTP.
//
// Usage:
//
//	feedmux serve [-config PATH] [-db PATH] [-listen ADDR]
//	feedmux version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

// Version returns the version of this binary.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// ProjectURL is where feedmux lives; it goes into the User-Agent.
const ProjectURL = "https://github.com/feedmux/feedmux"

// memoryLimit is the soft limit feedmux gives the Go runtime's heap unless
// GOMEMLIMIT says otherwise: the garbage collector works harder near it
// rather than let the heap double, so a daemon ingesting 100,000 items
// stays under 100 MB. It is soft: the heap grows past it when it must.
const memoryLimit = 64 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.Is(err, errReported):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "feedmux:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `feedmux merges news feeds into one feed per topic.

Usage:
  feedmux serve [-config PATH] [-db PATH] [-listen ADDR]   poll feeds and serve them
  feedmux fetch [-config PATH] [-db PATH]                  poll every feed once, store, print a summary
  feedmux check [-config PATH]                             validate the configuration
  feedmux healthcheck [-config PATH] [-listen ADDR]        exit 0 when the local feedmux answers /healthz
  feedmux import-opml FILE.opml                            print [[feed]] entries for an OPML list
  feedmux version                                          print the version

Run "feedmux COMMAND -h" for the flags of a command.
`

// run dispatches a command line; it is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr, getenv)
	case "check":
		return runCheck(args[1:], stdout, stderr, getenv)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout, stderr, getenv)
	case "fetch":
		return runFetch(ctx, args[1:], stdout, stderr, getenv)
	case "import-opml":
		return runImportOPML(args[1:], os.Stdin, stdout, stderr)
	case "version":
		fs := flag.NewFlagSet("version", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprintln(stderr, "Usage: feedmux version\n\nPrints the version of feedmux.") }
		if err := fs.Parse(args[1:]); err != nil {
			return flagError(err)
		}
		fmt.Fprintln(stdout, "feedmux", Version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "feedmux: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

func runServe(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	m := NewMain()
	if err := m.ParseFlags(args, stderr, getenv); err != nil {
		return flagError(err)
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			m.Reload() // logs what it did or why not
			continue
		case <-ctx.Done():
			m.log.Info("shutting down")
		case err := <-m.Err():
			m.log.Error("stopping", "error", err)
			return errors.Join(err, m.Close())
		}
		return m.Close()
	}
}

// flagError maps flag parsing errors: help is not a failure, and a bad flag
// was already reported with the usage.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

// newLogger builds the process logger.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q (want debug, info, warn or error)", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid log format %q (want text or json)", format)
}
