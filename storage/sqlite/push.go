package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
	storerows "github.com/feedmux/feedmux/storage/rows"
)

// The WebSub subscriptions feedmux holds as a subscriber: one row per
// subscription (push_subscriptions), at most one live (subscribing, active
// or denied) per feed. Each method is one statement or transaction, and
// none undoes what another recorded meanwhile: a hub may verify a request
// before feedmux has recorded sending it.

const pushColumns = `f.url, p.hub, p.topic, p.callback_id, p.secret, p.state, p.lease_seconds, p.lease_end,
	p.next_action, p.attempts, p.last_error, p.pushes, p.rejected, p.last_push`

func scanPush(row interface{ Scan(...any) error }) (feedmux.Push, error) {
	var (
		p                          feedmux.Push
		lease, end, next, lastPush int64
	)
	err := row.Scan(&p.FeedURL, &p.Hub, &p.Topic, &p.CallbackID, &p.Secret, &p.State, &lease, &end,
		&next, &p.Attempts, &p.LastError, &p.Pushes, &p.Rejected, &lastPush)
	p.Lease = time.Duration(lease) * time.Second
	p.LeaseEnd, p.Next, p.LastPush = fromUnix(end), fromUnix(next), fromUnix(lastPush)
	return p, err
}

// SubscribePush records a new subscription of the feed configured with
// p.FeedURL, in p.State, due at p.Next. The feed's live subscription, if
// it has another, is to be cancelled (unsubscribing, due at once). The
// feed must have been stored: feedmux.ErrFeedNotFound otherwise.
func (db *DB) SubscribePush(ctx context.Context, p feedmux.Push) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var feedID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM feeds WHERE url = ?`, p.FeedURL).Scan(&feedID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("feed %s: %w", p.FeedURL, feedmux.ErrFeedNotFound)
		}
		if err != nil {
			return err
		}
		if err := retirePush(ctx, tx, `feed_id = ?`, feedID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO push_subscriptions
			(feed_id, hub, topic, callback_id, secret, state, next_action) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			feedID, p.Hub, p.Topic, p.CallbackID, p.Secret, p.State, unix(p.Next))
		return err
	})
	if err != nil {
		return fmt.Errorf("subscribe %s at %s: %w", p.FeedURL, p.Hub, err)
	}
	return nil
}

// UnsubscribePush marks the feed's live subscription to be cancelled at
// its hub (a denied one is forgotten at once: there is nothing to cancel).
func (db *DB) UnsubscribePush(ctx context.Context, feedURL string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return retirePush(ctx, tx, `feed_id = (SELECT id FROM feeds WHERE url = ?)`, feedURL)
	})
	if err != nil {
		return fmt.Errorf("unsubscribe %s: %w", feedURL, err)
	}
	return nil
}

// retirePush ends the live subscriptions of the feeds where says.
func retirePush(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE state = 'denied' AND `+where, args...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE push_subscriptions SET state = 'unsubscribing', next_action = 0
		WHERE state IN ('subscribing', 'active') AND `+where, args...)
	return err
}

// DuePushes returns up to limit subscriptions whose next action is due at
// now, the most overdue first, with their secrets.
func (db *DB) DuePushes(ctx context.Context, now time.Time, limit int) ([]feedmux.Push, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+pushColumns+`
		FROM push_subscriptions p JOIN feeds f ON f.id = p.feed_id
		WHERE p.next_action <= ? ORDER BY p.next_action, p.id LIMIT ?`, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", err)
	}
	defer rows.Close()
	return storerows.Collect(rows, "due pushes", func(r storerows.Rows) (feedmux.Push, error) { return scanPush(r) })
}

// NextPushDue is the earliest next action of any subscription; ok is false
// when there is none.
func (db *DB) NextPushDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var next sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT min(next_action) FROM push_subscriptions`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next push due: %w", err)
	}
	return time.Unix(next.Int64, 0).UTC(), next.Valid, nil
}

// PushByCallback returns the subscription with the callback id, secret
// included, or feedmux.ErrUnknownCallback.
func (db *DB) PushByCallback(ctx context.Context, callbackID string) (feedmux.Push, error) {
	p, err := scanPush(db.read.QueryRowContext(ctx, `SELECT `+pushColumns+`
		FROM push_subscriptions p JOIN feeds f ON f.id = p.feed_id WHERE p.callback_id = ?`, callbackID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, feedmux.ErrUnknownCallback
	}
	if err != nil {
		return p, fmt.Errorf("push subscription: %w", err)
	}
	return p, nil
}

// PushRequested records a request made to the subscription's hub: one
// more attempt, the error it met ("" for none), and the next action no
// sooner than next. An unsubscribing subscription becomes unsubscribed.
// What a verification recorded meanwhile (an active state, a later next
// action) stays.
func (db *DB) PushRequested(ctx context.Context, callbackID, lastError string, next time.Time) error {
	return db.execPush(ctx, `UPDATE push_subscriptions SET
		state = CASE state WHEN 'unsubscribing' THEN 'unsubscribed' ELSE state END,
		attempts = attempts + 1, last_error = ?, next_action = max(next_action, ?)
		WHERE callback_id = ?`, lastError, unix(next), callbackID)
}

// PushVerified records the hub's verification of a subscription: active
// for lease from now, next action at renew.
func (db *DB) PushVerified(ctx context.Context, callbackID string, now time.Time, lease time.Duration, renew time.Time) error {
	return db.execPush(ctx, `UPDATE push_subscriptions SET state = 'active', lease_seconds = ?, lease_end = ?,
		next_action = ?, attempts = 0, last_error = '' WHERE callback_id = ? AND state IN ('subscribing', 'active')`,
		int64(lease/time.Second), now.Add(lease).Unix(), renew.Unix(), callbackID)
}

// PushDenied records that the hub refused the subscription, with its
// reason; next is when it is forgotten, so that a later poll may ask
// again.
func (db *DB) PushDenied(ctx context.Context, callbackID, reason string, next time.Time) error {
	return db.execPush(ctx, `UPDATE push_subscriptions SET state = 'denied', last_error = ?, next_action = ?
		WHERE callback_id = ? AND state IN ('subscribing', 'active')`, reason, next.Unix(), callbackID)
}

// CountPush counts a content distribution the hub sent at now: stored
// (accepted) or discarded.
func (db *DB) CountPush(ctx context.Context, callbackID string, accepted bool, now time.Time) error {
	if accepted {
		return db.execPush(ctx, `UPDATE push_subscriptions SET pushes = pushes + 1, last_push = ? WHERE callback_id = ?`,
			now.Unix(), callbackID)
	}
	return db.execPush(ctx, `UPDATE push_subscriptions SET rejected = rejected + 1 WHERE callback_id = ?`, callbackID)
}

// ForgetPush deletes the subscription.
func (db *DB) ForgetPush(ctx context.Context, callbackID string) error {
	return db.execPush(ctx, `DELETE FROM push_subscriptions WHERE callback_id = ?`, callbackID)
}

func (db *DB) execPush(ctx context.Context, query string, args ...any) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	return nil
}
