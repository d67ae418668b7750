package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// SyncFeeds records the configured feeds: new ones are added (due at once),
// known ones take their configured title and tags, and feeds no longer
// configured are marked inactive. Their items and state are kept; their
// push subscriptions are to be cancelled.
func (db *DB) SyncFeeds(ctx context.Context, feeds []feedmux.Feed) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE feeds SET active = 0`); err != nil {
			return err
		}
		// A changed configuration gives a gone feed another chance.
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO feeds (url, config_title, tags, config, active) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (url) DO UPDATE SET
				config_title = excluded.config_title, tags = excluded.tags, active = 1,
				gone = CASE WHEN feeds.config = excluded.config THEN feeds.gone ELSE 0 END,
				next_check = CASE WHEN feeds.gone AND feeds.config <> excluded.config THEN 0 ELSE feeds.next_check END,
				config = excluded.config`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, f := range feeds {
			tags, err := json.Marshal(nonNil(f.Tags))
			if err != nil {
				return err
			}
			fingerprint, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, f.URL, f.Title, string(tags), string(fingerprint)); err != nil {
				return fmt.Errorf("sync feed %s: %w", f.URL, err)
			}
		}
		// A feed no longer configured cancels its push subscription.
		return retirePush(ctx, tx, `feed_id IN (SELECT id FROM feeds WHERE NOT active)`)
	})
}

const feedStateColumns = `feeds.url, current_url, discovered_url, title, site_url, etag, last_modified,
	last_poll, next_check, last_status, feeds.last_error, errors, gone, last_new_item,
	(SELECT count(*) FROM items WHERE feed_id = feeds.id), config_title, tags,
	coalesce(ps.hub, ''), coalesce(ps.topic, ''), coalesce(ps.state, ''), coalesce(ps.lease_seconds, 0),
	coalesce(ps.lease_end, 0), coalesce(ps.next_action, 0), coalesce(ps.attempts, 0), coalesce(ps.last_error, ''),
	coalesce(ps.pushes, 0), coalesce(ps.rejected, 0), coalesce(ps.last_push, 0),
	(SELECT coalesce(sum(page_state = 2), 0) || ' ' || coalesce(sum(page_state = 3), 0) || ' ' ||
		coalesce(sum(page_state IN (1, 4)), 0) || ' ' || coalesce(avg(CASE WHEN page_state = 2 THEN page_us END), 0)
		FROM items WHERE feed_id = feeds.id AND page_state <> 0)`

// feedStateFrom joins each feed to its live push subscription, if any.
const feedStateFrom = ` FROM feeds LEFT JOIN push_subscriptions ps
	ON ps.feed_id = feeds.id AND ps.state IN ('subscribing', 'active', 'denied')`

func scanFeedState(row interface{ Scan(...any) error }) (feedmux.FeedState, error) {
	var (
		st                          feedmux.FeedState
		lastPoll, next, lastNewItem int64
		lease, leaseEnd, pushNext   int64
		lastPush                    int64
		tags, pages                 string
		extractUS                   float64
	)
	ps := &st.Push
	err := row.Scan(&st.URL, &st.CurrentURL, &st.DiscoveredURL, &st.Title, &st.SiteURL, &st.ETag, &st.LastModified,
		&lastPoll, &next, &st.LastStatus, &st.LastError, &st.Errors, &st.Gone, &lastNewItem, &st.Items,
		&st.ConfigTitle, &tags,
		&ps.Hub, &ps.Topic, &ps.State, &lease, &leaseEnd, &pushNext, &ps.Attempts, &ps.LastError,
		&ps.Pushes, &ps.Rejected, &lastPush, &pages)
	if err != nil {
		return st, err
	}
	if ps.Hub != "" {
		ps.FeedURL = st.URL
		ps.Lease = time.Duration(lease) * time.Second
		ps.LeaseEnd, ps.Next, ps.LastPush = fromUnix(leaseEnd), fromUnix(pushNext), fromUnix(lastPush)
	}
	if _, err := fmt.Sscan(pages, &st.Pages.Fetched, &st.Pages.Failed, &st.Pages.Waiting, &extractUS); err != nil {
		return st, fmt.Errorf("pages of %s: %w", st.URL, err)
	}
	st.Pages.Extract = time.Duration(extractUS) * time.Microsecond
	st.LastPoll, st.NextCheck, st.LastNewItem = fromUnix(lastPoll), fromUnix(next), fromUnix(lastNewItem)
	if err := json.Unmarshal([]byte(tags), &st.Tags); err != nil {
		return st, fmt.Errorf("tags of %s: %w", st.URL, err)
	}
	if len(st.Tags) == 0 {
		st.Tags = nil
	}
	return st, nil
}

// FeedState returns what is known of the feed configured with url. It
// returns feedmux.ErrFeedNotFound when the feed was never recorded.
func (db *DB) FeedState(ctx context.Context, url string) (feedmux.FeedState, error) {
	row, err := db.queryRow(ctx, `SELECT `+feedStateColumns+feedStateFrom+` WHERE feeds.url = ?`, url)
	var st feedmux.FeedState
	if err == nil {
		st, err = scanFeedState(row)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("feed %s: %w", url, feedmux.ErrFeedNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("feed state %s: %w", url, err)
	}
	return st, nil
}

// FeedStates returns the state of every configured feed, by URL.
func (db *DB) FeedStates(ctx context.Context) ([]feedmux.FeedState, error) {
	r, err := db.read.QueryContext(ctx, `SELECT `+feedStateColumns+feedStateFrom+` WHERE active ORDER BY feeds.url`)
	if err != nil {
		return nil, fmt.Errorf("feed states: %w", err)
	}
	defer r.Close()
	return rows.Collect(r, "feed states", func(r rows.Rows) (feedmux.FeedState, error) { return scanFeedState(r) })
}

// saveFeedStateSQL writes a feed's state and returns its row id, adding
// the feed if it was never synced.
const saveFeedStateSQL = `
	INSERT INTO feeds (url, current_url, discovered_url, title, site_url, etag, last_modified,
		last_poll, next_check, last_status, last_error, errors, gone, last_new_item)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (url) DO UPDATE SET
		current_url = excluded.current_url, discovered_url = excluded.discovered_url,
		gone = excluded.gone, title = excluded.title,
		site_url = excluded.site_url, etag = excluded.etag,
		last_modified = excluded.last_modified, last_poll = excluded.last_poll,
		next_check = excluded.next_check, last_status = excluded.last_status,
		last_error = excluded.last_error, errors = excluded.errors,
		last_new_item = max(feeds.last_new_item, excluded.last_new_item)
	RETURNING id`

// saveFeedState writes st and returns the feed's row id, adding the feed if
// it was never synced.
func (db *DB) saveFeedState(ctx context.Context, tx *sql.Tx, st *feedmux.FeedState) (int64, error) {
	save, err := db.stmt(ctx, tx, saveFeedStateSQL)
	if err != nil {
		return 0, err
	}
	var id int64
	err = save.QueryRowContext(ctx,
		st.URL, st.CurrentURL, st.DiscoveredURL, st.Title, st.SiteURL, st.ETag, st.LastModified,
		unix(st.LastPoll), unix(st.NextCheck), st.LastStatus, st.LastError, st.Errors, st.Gone,
		unix(st.LastNewItem),
	).Scan(&id)
	return id, err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// FeedHealth counts the configured feeds by health: ok, failing, gone.
func (db *DB) FeedHealth(ctx context.Context) (map[string]int, error) {
	states, err := db.FeedStates(ctx)
	if err != nil {
		return nil, err
	}
	return feedmux.HealthCounts(states), nil
}
