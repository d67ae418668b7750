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

// ClaimFeed claims the feed for instance until now+lease when its stored
// next check is due and no other instance's claim is live; saving its
// poll ends the claim. One UPDATE decides, so two processes asking at once
// cannot both win. Times are stored in whole seconds, cut down: a time is
// past only in the second after it, or a feed polled at 12:00:00.9 with
// a one-second interval would be due again at 12:00:01.0.
func (db *DB) ClaimFeed(ctx context.Context, url, instance string, now time.Time, lease time.Duration) (bool, time.Time, error) {
	var claimed bool
	var nextCheck, claimUntil int64
	err := db.pool.QueryRow(ctx, `
		WITH claim AS (
			UPDATE feeds SET claimed_by = $2, claim_until = $4
			WHERE url = $1 AND next_check < $3 AND (claim_until < $3 OR claimed_by = $2)
			RETURNING true AS claimed)
		SELECT coalesce((SELECT claimed FROM claim), false), next_check, claim_until FROM feeds WHERE url = $1`,
		url, instance, now.Unix(), now.Add(lease).Unix()).Scan(&claimed, &nextCheck, &claimUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, time.Time{}, nil // never synced: nobody else can hold it
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("claim feed %s: %w", url, err)
	}
	if claimed {
		return true, time.Time{}, nil
	}
	return false, time.Unix(max(nextCheck, claimUntil)+1, 0), nil
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
