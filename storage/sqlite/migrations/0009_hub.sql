-- WebSub: the subscriptions at feedmux's own hub, each a reader's
-- callback for one feedmux feed (topic). Only verified subscriptions are
-- stored; delivered is the ETag of the last version sent, so a restart
-- neither repeats nor skips one. Times are unix seconds.
CREATE TABLE hub_subscriptions (
	topic      TEXT NOT NULL,
	callback   TEXT NOT NULL,
	secret     TEXT NOT NULL DEFAULT '',
	lease_end  INTEGER NOT NULL,
	delivered  TEXT NOT NULL DEFAULT '',
	failures   INTEGER NOT NULL DEFAULT 0,
	next_try   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (topic, callback)
);
