package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
)

// changeChannel is the NOTIFY channel of changes.
const changeChannel = "feedmux_changes"

// changeRecheck is how often a watcher compares the change count with the
// notifications it had: a lost one is repaired within about twice this.
const changeRecheck = 2 * time.Second

var _ feedmux.ChangeNotifier = (*DB)(nil)

// change is a notification's payload.
type change struct {
	N        int64    `json:"n"`
	Instance string   `json:"instance"`
	Tags     []string `json:"tags"`
}

// NotifyChange counts the change and notifies every listener, in one
// transaction: a notification is sent when, and only if, it commits.
func (db *DB) NotifyChange(ctx context.Context, tags []string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("notify change: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	c := change{Instance: db.Instance, Tags: tags}
	if err := tx.QueryRow(ctx, `UPDATE changes SET n = n + 1 RETURNING n`).Scan(&c.N); err != nil {
		return fmt.Errorf("notify change: %w", err)
	}
	payload, _ := json.Marshal(c)
	if len(payload) > 7900 { // NOTIFY takes under 8000 bytes: say "everything"
		c.Tags = nil
		payload, _ = json.Marshal(c)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changeChannel, string(payload)); err != nil {
		return fmt.Errorf("notify change: %w", err)
	}
	return tx.Commit(ctx)
}

// WatchChanges listens on a connection of its own and calls changed with
// the tags of each other instance's change; every changeRecheck it reads
// the count, and when it moved past the notifications heard (twice in a
// row, so that one in flight is not taken for lost), it calls changed(nil).
// A broken connection is opened again, after a changed(nil).
func (db *DB) WatchChanges(ctx context.Context, changed func(tags []string)) error {
	for ctx.Err() == nil {
		// listen returns when its connection broke (or ctx ended): what
		// happened meanwhile is unknown, and it listens again.
		_ = db.listen(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		changed(nil)
		select {
		case <-ctx.Done():
		case <-time.After(changeRecheck):
		}
	}
	return nil
}

func (db *DB) listen(ctx context.Context, changed func(tags []string)) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return err
	}
	var heard int64
	if err := conn.QueryRow(ctx, `SELECT n FROM changes`).Scan(&heard); err != nil {
		return err
	}
	behind := false
	for {
		wait, cancel := context.WithTimeout(ctx, changeRecheck)
		n, err := conn.Conn().WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			var c change
			if json.Unmarshal([]byte(n.Payload), &c) != nil {
				changed(nil)
				continue
			}
			heard = max(heard, c.N)
			if c.Instance != db.Instance {
				changed(c.Tags)
			}
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case wait.Err() == nil:
			return err // the connection broke
		}
		var count int64
		if err := conn.QueryRow(ctx, `SELECT n FROM changes`).Scan(&count); err != nil {
			return err
		}
		if count > heard && behind {
			changed(nil)
			heard = count
		}
		behind = count > heard
	}
}
