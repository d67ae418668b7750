package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

func scanPush(row pgx.Row) (feedmux.Push, error) {
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var feedID int64
		err := tx.QueryRow(ctx, `SELECT id FROM feeds WHERE url = $1`, p.FeedURL).Scan(&feedID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("feed %s: %w", p.FeedURL, feedmux.ErrFeedNotFound)
		}
		if err != nil {
			return err
		}
		if err := retirePush(ctx, tx, `feed_id = $1`, feedID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO push_subscriptions
			(feed_id, hub, topic, callback_id, secret, state, next_action) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return retirePush(ctx, tx, `feed_id = (SELECT id FROM feeds WHERE url = $1)`, feedURL)
	})
	if err != nil {
		return fmt.Errorf("unsubscribe %s: %w", feedURL, err)
	}
	return nil
}

// retirePush ends the live subscriptions of the feeds where says (a fixed
// condition of args' placeholders).
func retirePush(ctx context.Context, tx pgx.Tx, where string, args ...any) error {
	if _, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE state = 'denied' AND `+where, args...); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE push_subscriptions SET state = 'unsubscribing', next_action = 0
		WHERE state IN ('subscribing', 'active') AND `+where, args...)
	return err
}

// DuePushes returns up to limit subscriptions whose next action is due at
// now, the most overdue first, with their secrets.
func (db *DB) DuePushes(ctx context.Context, now time.Time, limit int) ([]feedmux.Push, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+pushColumns+`
		FROM push_subscriptions p JOIN feeds f ON f.id = p.feed_id
		WHERE p.next_action <= $1 ORDER BY p.next_action, p.id LIMIT $2`, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", err)
	}
	defer rows.Close()
	return storerows.Collect(rows, "due pushes", func(r storerows.Rows) (feedmux.Push, error) { return scanPush(r) })
}

// NextPushDue is the earliest next action of any subscription; ok is false
// when there is none.
func (db *DB) NextPushDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var next *int64
	if err := db.pool.QueryRow(ctx, `SELECT min(next_action) FROM push_subscriptions`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next push due: %w", err)
	}
	if next == nil {
		return time.Unix(0, 0).UTC(), false, nil
	}
	return time.Unix(*next, 0).UTC(), true, nil
}

// PushByCallback returns the subscription with the callback id, secret
// included, or feedmux.ErrUnknownCallback.
func (db *DB) PushByCallback(ctx context.Context, callbackID string) (feedmux.Push, error) {
	p, err := scanPush(db.pool.QueryRow(ctx, `SELECT `+pushColumns+`
		FROM push_subscriptions p JOIN feeds f ON f.id = p.feed_id WHERE p.callback_id = $1`, callbackID))
	if errors.Is(err, pgx.ErrNoRows) {
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
		attempts = attempts + 1, last_error = $1, next_action = greatest(next_action, $2)
		WHERE callback_id = $3`, text(lastError), unix(next), callbackID)
}

// PushVerified records the hub's verification of a subscription: active
// for lease from now, next action at renew.
func (db *DB) PushVerified(ctx context.Context, callbackID string, now time.Time, lease time.Duration, renew time.Time) error {
	return db.execPush(ctx, `UPDATE push_subscriptions SET state = 'active', lease_seconds = $1, lease_end = $2,
		next_action = $3, attempts = 0, last_error = '' WHERE callback_id = $4 AND state IN ('subscribing', 'active')`,
		int64(lease/time.Second), now.Add(lease).Unix(), renew.Unix(), callbackID)
}

// PushDenied records that the hub refused the subscription, with its
// reason; next is when it is forgotten, so that a later poll may ask
// again.
func (db *DB) PushDenied(ctx context.Context, callbackID, reason string, next time.Time) error {
	return db.execPush(ctx, `UPDATE push_subscriptions SET state = 'denied', last_error = $1, next_action = $2
		WHERE callback_id = $3 AND state IN ('subscribing', 'active')`, text(reason), next.Unix(), callbackID)
}

// CountPush counts a content distribution the hub sent at now: stored
// (accepted) or discarded.
func (db *DB) CountPush(ctx context.Context, callbackID string, accepted bool, now time.Time) error {
	if accepted {
		return db.execPush(ctx, `UPDATE push_subscriptions SET pushes = pushes + 1, last_push = $1 WHERE callback_id = $2`,
			now.Unix(), callbackID)
	}
	return db.execPush(ctx, `UPDATE push_subscriptions SET rejected = rejected + 1 WHERE callback_id = $1`, callbackID)
}

// ForgetPush deletes the subscription.
func (db *DB) ForgetPush(ctx context.Context, callbackID string) error {
	return db.execPush(ctx, `DELETE FROM push_subscriptions WHERE callback_id = $1`, callbackID)
}

func (db *DB) execPush(ctx context.Context, query string, args ...any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("push subscription: %w", err)
	}
	return nil
}
