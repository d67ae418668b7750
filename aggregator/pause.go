package aggregator

import (
	"log/slog"
	"time"

	"github.com/feedmux/feedmux"
)

// DefaultStorageRetry is how often a poll is tried while the database
// cannot be written.
const DefaultStorageRetry = 15 * time.Second

// storagePause holds polling back while the database cannot be written
// (a full disk is the machine's fault, not the sources'): fetching what
// cannot be stored only costs the sources. One poll is let through every
// retry; when its write succeeds, polling resumes where the schedule
// stands, and the feeds held back are due at once.
type storagePause struct {
	retry     time.Duration
	log       *slog.Logger
	paused    bool
	since     time.Time
	nextTrial time.Time
}

// observe follows the database's write health and logs its changes once,
// not once per feed.
func (sp *storagePause) observe(h feedmux.WriteHealth, now time.Time) {
	switch {
	case h.Err != nil && !sp.paused:
		sp.paused, sp.since, sp.nextTrial = true, h.Since, now.Add(sp.retry)
		sp.log.Error("database cannot be written: polling paused until it can", "error", h.Err,
			"retry_every", sp.retry, "detail", "free space on the database's disk, or check that it is writable")
	case h.Err == nil && sp.paused:
		sp.paused = false
		sp.log.Info("database writable again: polling resumed", "paused_for", now.Sub(sp.since).Round(time.Second))
	}
}

// allow reports whether a poll may start now, with inFlight polls
// running. While paused, that is one trial poll every retry, alone.
func (sp *storagePause) allow(now time.Time, inFlight int) bool {
	if !sp.paused {
		return true
	}
	if inFlight > 0 || now.Before(sp.nextTrial) {
		return false
	}
	sp.nextTrial = now.Add(sp.retry)
	return true
}

// wait is how long until a trial poll may start; 0 when not paused.
func (sp *storagePause) wait(now time.Time) time.Duration {
	if !sp.paused {
		return 0
	}
	return max(sp.nextTrial.Sub(now), 0)
}
