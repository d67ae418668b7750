// Package batch is group commit for a store with one writer: writes that
// arrive while a transaction is being written share the next one. Both
// stores use it for the polls' saves, which each wait for the writer
// anyway (SQLite's one connection, PostgreSQL's write lock): one commit
// for several of them writes each shared page or index entry once instead
// of once per poll, and pays for one commit.
//
// No timer is involved: a write that finds the writer idle goes at once,
// alone. The caller that finds it idle writes the batch its write is in;
// while it does, new writes queue, and when it is done it hands the
// queue's first caller the next batch. Each write stays atomic with
// itself: a write that fails rolls its whole batch back, and then every
// write of the batch is made again in a transaction of its own, so one
// write's failure is never another's.
package batch

import (
	"context"
	"sync"
	"sync/atomic"
)

// Committer batches the writes of one store. Its methods are safe for
// concurrent use.
type Committer[Tx any] struct {
	max int
	run func(ctx context.Context, fn func(Tx) error) error

	mu      sync.Mutex
	pending []*write[Tx]
	busy    bool         // a caller is writing a batch; pending is empty otherwise
	shared  atomic.Int64 // writes committed in a transaction with others
}

// write is one caller's transaction body, waiting for its batch.
type write[Tx any] struct {
	ctx  context.Context
	fn   func(Tx) error
	err  error
	done chan struct{} // closed when the write is made or has failed
	lead chan struct{} // closed when this caller is to write the next batch
}

// New returns a Committer that puts at most max writes in a transaction.
// run runs a function in a transaction of its own and returns its error or
// the commit's; it must give fn a transaction whose statements do not end
// with ctx, when the writes share it.
func New[Tx any](max int, run func(ctx context.Context, fn func(Tx) error) error) *Committer[Tx] {
	return &Committer[Tx]{max: max, run: run}
}

// Do runs fn in a write transaction it may share with other callers'. fn
// must be safe to run again when a batch is retried write by write: it
// must set its results afresh on each run, and its statements should not
// end with ctx (an interrupted statement would fail the other callers'
// writes with it, which are then made again alone). A caller whose ctx
// ends before its write begins gets ctx's error and writes nothing.
func (c *Committer[Tx]) Do(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &write[Tx]{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	c.mu.Lock()
	c.pending = append(c.pending, w)
	if c.busy {
		c.mu.Unlock()
		select {
		case <-w.done:
			return w.err
		case <-w.lead: // w is first in the queue now
		}
		c.mu.Lock()
	}
	c.busy = true
	n := min(len(c.pending), max(c.max, 1))
	batch := c.pending[:n:n]
	c.pending = c.pending[n:]
	c.mu.Unlock()

	c.write(batch)

	c.mu.Lock()
	if len(c.pending) > 0 {
		close(c.pending[0].lead)
	} else {
		c.busy, c.pending = false, nil
	}
	c.mu.Unlock()
	return w.err
}

// write makes the writes of batch in one transaction, or, when one of
// them fails, each in its own. It sets each write's error and closes its
// done channel.
func (c *Committer[Tx]) write(batch []*write[Tx]) {
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	if len(batch) > 1 {
		err := c.run(context.Background(), func(tx Tx) error {
			for _, w := range batch {
				if err := w.ctx.Err(); err != nil {
					return err // its caller has gone: the others go without it
				}
				if err := w.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			c.shared.Add(int64(len(batch)))
			return
		}
	}
	for _, w := range batch {
		if w.err = w.ctx.Err(); w.err == nil {
			w.err = c.run(context.WithoutCancel(w.ctx), w.fn)
		}
	}
}

// Shared counts the writes committed in a transaction with others.
func (c *Committer[Tx]) Shared() int64 { return c.shared.Load() }

// Queued counts the writes waiting for the writer.
func (c *Committer[Tx]) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
