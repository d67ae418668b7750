package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxBatch is the most writes one group commit carries.
const maxBatch = 32

// groupCommit lets writes that arrive while another transaction is being
// written share the next one: the polls of a cold ingest each wait for
// the single writer anyway, and one commit for several of them writes each
// shared page (the time index, the tag index, the search index) once
// instead of once per poll. No timer is involved: a write that finds the
// writer idle goes at once, alone.
//
// The caller that finds the writer idle commits the batch its write is
// in; while it does, new writes queue, and when it is done it hands the
// queue's first caller the next batch. Each write stays atomic with
// itself: a write that fails rolls the whole batch back, and then every
// write of it is made again in a transaction of its own, so one poll's
// failure is never another's.
type groupCommit struct {
	mu      sync.Mutex
	pending []*queuedWrite
	busy    bool         // a caller is writing a batch; pending is empty otherwise
	shared  atomic.Int64 // writes committed in a transaction with others
}

// queuedWrite is one caller's transaction body, waiting for its batch.
type queuedWrite struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	err  error
	done chan struct{} // closed when the write is made or has failed
	lead chan struct{} // closed when this caller is to write the next batch
}

// inBatchTx runs fn in a write transaction it may share with other
// callers' (see groupCommit). fn must be safe to run again when a batch
// is retried write by write: it must set its results afresh on each run.
// It returns fn's error or the commit's, and records the outcome in the
// database's health as inTx does.
func (db *DB) inBatchTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &queuedWrite{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	g := &db.group
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.busy {
		g.mu.Unlock()
		select {
		case <-w.done:
			return w.err
		case <-w.lead: // w is first in the queue now
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.pending), maxBatch)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	db.writeBatch(batch)

	g.mu.Lock()
	if len(g.pending) > 0 {
		close(g.pending[0].lead)
	} else {
		g.busy, g.pending = false, nil
	}
	g.mu.Unlock()
	return w.err
}

// writeBatch makes the writes of batch in one transaction, or, when one of
// them fails, each in its own. It sets each write's error and closes its
// done channel.
func (db *DB) writeBatch(batch []*queuedWrite) {
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	if len(batch) == 1 {
		batch[0].err = batch[0].run(db)
		return
	}
	err := db.inTx(context.Background(), func(tx *sql.Tx) error {
		for _, w := range batch {
			if err := w.body(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		db.group.shared.Add(int64(len(batch)))
		return
	}
	for _, w := range batch {
		w.err = w.run(db)
	}
}

// run makes the write in a transaction of its own.
func (w *queuedWrite) run(db *DB) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	return db.inTx(context.WithoutCancel(w.ctx), w.fn)
}

// body runs the write inside a batch's transaction. Its statements do not
// see the caller's cancellation: an interrupted statement would roll back
// the other callers' writes with it. A caller that has gone before its
// write began fails the batch, which is then written write by write
// without it.
func (w *queuedWrite) body(tx *sql.Tx) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	return w.fn(tx)
}
