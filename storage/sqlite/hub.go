package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/feedmux/feedmux"
	storerows "github.com/feedmux/feedmux/storage/rows"
)

// HubSubscriptions returns every subscription at feedmux's hub.
func (db *DB) HubSubscriptions(ctx context.Context) ([]feedmux.HubSubscription, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT topic, callback, secret, lease_end, delivered,
		failures, next_try, last_error FROM hub_subscriptions ORDER BY topic, callback`)
	if err != nil {
		return nil, fmt.Errorf("hub subscriptions: %w", err)
	}
	defer rows.Close()
	return storerows.Collect(rows, "hub subscriptions", scanHubSubscription)
}

func scanHubSubscription(r storerows.Rows) (feedmux.HubSubscription, error) {
	var (
		s               feedmux.HubSubscription
		leaseEnd, retry int64
	)
	err := r.Scan(&s.Topic, &s.Callback, &s.Secret, &leaseEnd, &s.Delivered, &s.Failures, &retry, &s.LastError)
	s.LeaseEnd, s.NextTry = fromUnix(leaseEnd), fromUnix(retry)
	return s, err
}

// SaveHubSubscription adds s, or replaces the subscription of its
// callback to its topic.
func (db *DB) SaveHubSubscription(ctx context.Context, s feedmux.HubSubscription) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hub_subscriptions (topic, callback, secret, lease_end,
				delivered, failures, next_try, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
				lease_end = excluded.lease_end, delivered = excluded.delivered, failures = excluded.failures,
				next_try = excluded.next_try, last_error = excluded.last_error`,
			s.Topic, s.Callback, s.Secret, unix(s.LeaseEnd), s.Delivered, s.Failures, unix(s.NextTry), s.LastError)
		return err
	})
	if err != nil {
		return fmt.Errorf("save hub subscription of %s to %s: %w", s.Callback, s.Topic, err)
	}
	return nil
}

// DeleteHubSubscription removes the subscription of callback to topic, if
// there is one.
func (db *DB) DeleteHubSubscription(ctx context.Context, topic, callback string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM hub_subscriptions WHERE topic = ? AND callback = ?`, topic, callback)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete hub subscription of %s to %s: %w", callback, topic, err)
	}
	return nil
}
