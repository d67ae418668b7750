package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/rows"
)

// SyncFeeds records the configured feeds: new ones are added (due at once),
// known ones take their configured title and tags, and feeds no longer
// configured are marked inactive. Their items and state are kept; their
// push subscriptions are to be cancelled.
func (db *DB) SyncFeeds(ctx context.Context, feeds []feedmux.Feed) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE feeds SET active = false WHERE active`); err != nil {
			return err
		}
		for _, f := range feeds {
			tags, err := json.Marshal(nonNil(f.Tags))
			if err != nil {
				return err
			}
			fingerprint, err := json.Marshal(f)
			if err != nil {
				return err
			}
			// A changed configuration gives a gone feed another chance.
			if _, err := tx.Exec(ctx, `
				INSERT INTO feeds (url, config_title, tags, config, full_content, active)
				VALUES ($1, $2, $3::jsonb, $4, $5, true)
				ON CONFLICT (url) DO UPDATE SET
					config_title = excluded.config_title, tags = excluded.tags, active = true,
					gone = CASE WHEN feeds.config = excluded.config THEN feeds.gone ELSE false END,
					next_check = CASE WHEN feeds.gone AND feeds.config <> excluded.config THEN 0 ELSE feeds.next_check END,
					config = excluded.config, full_content = excluded.full_content`,
				f.URL, f.Title, string(tags), string(fingerprint), f.FullContent); err != nil {
				return fmt.Errorf("sync feed %s: %w", f.URL, err)
			}
		}
		// A feed no longer configured cancels its push subscription.
		return retirePush(ctx, tx, `feed_id IN (SELECT id FROM feeds WHERE NOT active)`)
	})
}

const feedStateColumns = `feeds.url, current_url, discovered_url, title, site_url, etag, last_modified,
	last_poll, next_check, last_status, feeds.last_error, errors, gone, last_new_item,
	(SELECT count(*) FROM items WHERE feed_id = feeds.id), config_title, tags::text,
	coalesce(ps.hub, ''), coalesce(ps.topic, ''), coalesce(ps.state, ''), coalesce(ps.lease_seconds, 0),
	coalesce(ps.lease_end, 0), coalesce(ps.next_action, 0), coalesce(ps.attempts, 0), coalesce(ps.last_error, ''),
	coalesce(ps.pushes, 0), coalesce(ps.rejected, 0), coalesce(ps.last_push, 0),
	pages.fetched, pages.failed, pages.waiting, pages.extract_us, polled_by`

// feedStateFrom joins each feed to its live push subscription, if any,
// and counts its items' pages.
const feedStateFrom = ` FROM feeds LEFT JOIN push_subscriptions ps
	ON ps.feed_id = feeds.id AND ps.state IN ('subscribing', 'active', 'denied')
	CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE page_state = 2) AS fetched,
		count(*) FILTER (WHERE page_state = 3) AS failed,
		count(*) FILTER (WHERE page_state IN (1, 4)) AS waiting,
		coalesce(avg(page_us) FILTER (WHERE page_state = 2), 0)::float8 AS extract_us
		FROM items WHERE feed_id = feeds.id AND page_state <> 0) pages`

func scanFeedState(row pgx.Row) (feedmux.FeedState, error) {
	var (
		st                          feedmux.FeedState
		lastPoll, next, lastNewItem int64
		lease, leaseEnd, pushNext   int64
		lastPush                    int64
		tags                        string
		extractUS                   float64
	)
	ps := &st.Push
	err := row.Scan(&st.URL, &st.CurrentURL, &st.DiscoveredURL, &st.Title, &st.SiteURL, &st.ETag, &st.LastModified,
		&lastPoll, &next, &st.LastStatus, &st.LastError, &st.Errors, &st.Gone, &lastNewItem, &st.Items,
		&st.ConfigTitle, &tags,
		&ps.Hub, &ps.Topic, &ps.State, &lease, &leaseEnd, &pushNext, &ps.Attempts, &ps.LastError,
		&ps.Pushes, &ps.Rejected, &lastPush,
		&st.Pages.Fetched, &st.Pages.Failed, &st.Pages.Waiting, &extractUS, &st.PolledBy)
	if err != nil {
		return st, err
	}
	if ps.Hub != "" {
		ps.FeedURL = st.URL
		ps.Lease = time.Duration(lease) * time.Second
		ps.LeaseEnd, ps.Next, ps.LastPush = fromUnix(leaseEnd), fromUnix(pushNext), fromUnix(lastPush)
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
	row := db.pool.QueryRow(ctx, `SELECT `+feedStateColumns+feedStateFrom+` WHERE feeds.url = $1`, url)
	st, err := scanFeedState(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("feed %s: %w", url, feedmux.ErrFeedNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("feed state %s: %w", url, err)
	}
	return st, nil
}

// FeedStates returns the state of every configured feed, by URL.
func (db *DB) FeedStates(ctx context.Context) ([]feedmux.FeedState, error) {
	r, err := db.pool.Query(ctx, `SELECT `+feedStateColumns+feedStateFrom+` WHERE active ORDER BY feeds.url COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("feed states: %w", err)
	}
	defer r.Close()
	return rows.Collect(r, "feed states", func(r rows.Rows) (feedmux.FeedState, error) { return scanFeedState(r) })
}

// saveFeedState writes st and returns the feed's row id, adding the feed if
// it was never synced.
func saveFeedState(ctx context.Context, tx pgx.Tx, st *feedmux.FeedState, instance string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO feeds (url, current_url, discovered_url, title, site_url, etag, last_modified,
			last_poll, next_check, last_status, last_error, errors, gone, last_new_item, polled_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (url) DO UPDATE SET
			current_url = excluded.current_url, discovered_url = excluded.discovered_url,
			gone = excluded.gone, title = excluded.title,
			site_url = excluded.site_url, etag = excluded.etag,
			last_modified = excluded.last_modified, last_poll = excluded.last_poll,
			next_check = excluded.next_check, last_status = excluded.last_status,
			last_error = excluded.last_error, errors = excluded.errors,
			last_new_item = greatest(feeds.last_new_item, excluded.last_new_item),
			claimed_by = '', claim_until = 0, polled_by = excluded.polled_by
		RETURNING id`,
		st.URL, st.CurrentURL, st.DiscoveredURL, st.Title, st.SiteURL, st.ETag, st.LastModified,
		unix(st.LastPoll), unix(st.NextCheck), st.LastStatus, st.LastError, st.Errors, st.Gone,
		unix(st.LastNewItem), instance,
	).Scan(&id)
	return id, err
}

// FeedHealth counts the configured feeds by health: ok, failing, gone.
func (db *DB) FeedHealth(ctx context.Context) (map[string]int, error) {
	states, err := db.FeedStates(ctx)
	if err != nil {
		return nil, err
	}
	return feedmux.HealthCounts(states), nil
}
