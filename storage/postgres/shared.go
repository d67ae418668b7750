package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
)

// Several feedmux processes share one PostgreSQL database: the one that
// claims a due feed polls it, and one elected process does what must
// happen once.
var (
	_ feedmux.FeedClaimer = (*DB)(nil)
	_ feedmux.Elector     = (*DB)(nil)
)

// ClaimFeed claims the feed when its stored next check is due, no other
// instance's claim of it is live and fewer than PerHost claims of its host
// are; saving its poll ends the claim. A transaction holds a lock of the
// host while it counts and claims, so that the limit holds in all
// processes. Times are stored in whole seconds, cut down: a time is past
// only in the second after it, or a feed polled at 12:00:00.9 with a
// one-second interval would be due again at 12:00:01.0.
func (db *DB) ClaimFeed(ctx context.Context, c feedmux.FeedClaim) (bool, time.Time, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("claim feed %s: %w", c.URL, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('feedmux host ' || $1))`, c.Host); err != nil {
		return false, time.Time{}, fmt.Errorf("claim feed %s: %w", c.URL, err)
	}
	now := c.Now.Unix()
	var (
		claimed                bool
		nextCheck, claimUntil  int64
		liveOfHost, perHostCap = int64(0), int64(max(c.PerHost, 1))
	)
	err = tx.QueryRow(ctx, `
		WITH live AS (SELECT count(*) AS n FROM feeds
			WHERE claim_host = $5 AND claim_until >= $3 AND url <> $1),
		claim AS (
			UPDATE feeds SET claimed_by = $2, claim_until = $4, claim_host = $5
			WHERE url = $1 AND next_check < $3 AND (claim_until < $3 OR claimed_by = $2)
				AND (SELECT n FROM live) < $6
			RETURNING true AS claimed)
		SELECT coalesce((SELECT claimed FROM claim), false), next_check, claim_until, (SELECT n FROM live)
		FROM feeds WHERE url = $1`,
		c.URL, c.Instance, now, c.Now.Add(c.Lease).Unix(), c.Host, perHostCap).Scan(&claimed, &nextCheck, &claimUntil, &liveOfHost)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, time.Time{}, nil // never synced: nobody else can hold it
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	switch {
	case err != nil:
		return false, time.Time{}, fmt.Errorf("claim feed %s: %w", c.URL, err)
	case claimed:
		return true, time.Time{}, nil
	case nextCheck < now && claimUntil < now && liveOfHost >= perHostCap:
		return false, c.Now.Add(time.Second), nil // due, but its host is busy: ask again soon
	}
	return false, time.Unix(max(nextCheck, claimUntil)+1, 0), nil
}

// ReleaseClaims ends instance's live claims.
func (db *DB) ReleaseClaims(ctx context.Context, instance string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE feeds SET claimed_by = '', claim_until = 0 WHERE claimed_by = $1`, instance); err != nil {
		return fmt.Errorf("release claims of %s: %w", instance, err)
	}
	return nil
}

// leaderRecheck is how often a leader makes sure its connection, and so
// its lock, still holds, and how often the others ask again.
const leaderRecheck = 2 * time.Second

// Lead waits until this process holds the session advisory lock of role,
// on a connection of its own taken out of the pool, and returns a context
// that ends when the connection (and so the lock) is lost or ctx ends. A
// process that dies loses its connection, and another takes the lock
// within leaderRecheck of the database noticing.
func (db *DB) Lead(ctx context.Context, role string) (context.Context, error) {
	key := roleLock(role)
	for {
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("lead %s: %w", role, err)
		}
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			conn.Release()
			return nil, fmt.Errorf("lead %s: %w", role, err)
		}
		if got {
			lead, cancel := context.WithCancel(ctx)
			hijacked := conn.Hijack() // the lock lives as long as this connection
			go func() {
				defer cancel()
				defer hijacked.Close(context.Background())
				t := time.NewTicker(leaderRecheck)
				defer t.Stop()
				for {
					select {
					case <-lead.Done():
						return
					case <-t.C:
						if err := hijacked.Ping(lead); err != nil {
							return
						}
					}
				}
			}()
			return lead, nil
		}
		conn.Release()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leaderRecheck):
		}
	}
}

// roleLock is the advisory lock key of a role.
func roleLock(role string) int64 {
	h := fnv.New64a()
	h.Write([]byte("feedmux lead " + role))
	return int64(h.Sum64() >> 1)
}
