-- WebSub subscriptions feedmux holds, as a subscriber, at the hubs that
-- source feeds name. state: subscribing (asked, not verified yet), active
-- (verified; the hub pushes until lease_end), denied (the hub refused),
-- unsubscribing (to be cancelled at the hub), unsubscribed (cancelled;
-- forgotten once the hub verifies it, or at next_action). A feed has at
-- most one subscription in the first three states. callback_id is the
-- last segment of the callback URL, secret (text, sent as hub.secret) the
-- key of the pushes' signatures. Times are unix seconds; next_action is
-- when the subscription needs work next (a request, a renewal, forgetting
-- it); attempts counts the requests made since the last verification.
CREATE TABLE push_subscriptions (
	id            INTEGER PRIMARY KEY,
	feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
	hub           TEXT    NOT NULL,
	topic         TEXT    NOT NULL,
	callback_id   TEXT    NOT NULL UNIQUE,
	secret        TEXT    NOT NULL,
	state         TEXT    NOT NULL,
	lease_seconds INTEGER NOT NULL DEFAULT 0,
	lease_end     INTEGER NOT NULL DEFAULT 0,
	next_action   INTEGER NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT '',
	pushes        INTEGER NOT NULL DEFAULT 0,
	rejected      INTEGER NOT NULL DEFAULT 0,
	last_push     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX push_subscriptions_live ON push_subscriptions (feed_id)
	WHERE state IN ('subscribing', 'active', 'denied');
CREATE INDEX push_subscriptions_due ON push_subscriptions (next_action);
