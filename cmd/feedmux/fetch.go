package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/aggregator"
)

// fetchRow is one feed's line in the summary of feedmux fetch.
type fetchRow struct {
	feed   feedmux.Feed
	status string
	new    int
	took   time.Duration
	err    error
}

// runFetch polls every configured feed once, stores what it brings, prints
// a table of what happened and exits: for cron, and for the first import.
// On a terminal it draws a progress bar while it works. It fails (exit 1)
// when no feed could be polled.
func runFetch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	m := NewMain()
	m.command = "fetch"
	if err := m.ParseFlags(args, stderr, getenv); err != nil {
		return flagError(err)
	}
	cfg := m.Config
	m.Instance = instanceName()
	db, err := openStore(ctx, cfg, m.Instance)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := m.newPoller(ctx, db)
	if err != nil {
		return err
	}
	feeds := cfg.FeedList()
	if err := db.SyncFeeds(ctx, feeds); err != nil {
		return err
	}
	if _, err := p.Retag(ctx, feeds); err != nil {
		return err
	}

	rows := make([]fetchRow, len(feeds))
	var (
		mu   sync.Mutex
		done int
	)
	bar := newProgress(stderr, len(feeds))
	p.PollAll(ctx, feeds, func(i int, res aggregator.Result, err error, took time.Duration) {
		rows[i] = fetchRow{feed: feeds[i], status: pollStatus(res, err), new: res.Inserted, took: took, err: err}
		mu.Lock()
		done++
		bar.set(done)
		mu.Unlock()
	})
	bar.finish()
	if _, err := p.GroupPending(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "story grouping:", err)
	}
	if _, err := db.Prune(ctx, cfg.Retention(), 500); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "retention:", err)
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATUS\tNEW\tTIME")
	var failed, added int
	for _, r := range rows {
		name := r.feed.Title
		if name == "" {
			name = r.feed.URL
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", name, r.status, r.new, r.took.Round(time.Millisecond))
		added += r.new
		if r.err != nil {
			failed++
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d feeds, %d failed, %d new items\n", len(rows), failed, added)
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(stdout, "  %s: %v\n", r.feed.URL, r.err)
		}
	}
	if failed == len(rows) && len(rows) > 0 {
		return errReported
	}
	return nil
}

// pollStatus is a poll's outcome in a word or two.
func pollStatus(res aggregator.Result, err error) string {
	switch {
	case err != nil:
		return "error: " + aggregator.ErrorKind(err)
	case res.Gone:
		return "gone"
	case res.Status == 304:
		return "not modified"
	case res.Warning != "":
		return "ok, with warnings"
	}
	return "ok"
}

// progress draws a bar on a terminal and nothing elsewhere.
type progress struct {
	w     io.Writer
	total int
	on    bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	p.set(0)
	return p
}

func (p *progress) set(done int) {
	if !p.on || p.total == 0 {
		return
	}
	const width = 30
	n := done * width / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d feeds", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, p.total)
}

func (p *progress) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
