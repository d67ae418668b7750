-- Source feeds: the configured ones (active = 1) and those removed from the
-- configuration whose items are still kept. The configured URL is the key;
-- current_url is where the feed is polled after permanent redirects.
CREATE TABLE feeds (
	id            INTEGER PRIMARY KEY,
	url           TEXT    NOT NULL UNIQUE,
	config_title  TEXT    NOT NULL DEFAULT '',
	tags          TEXT    NOT NULL DEFAULT '[]', -- JSON array of configured tags
	active        INTEGER NOT NULL DEFAULT 1,
	current_url   TEXT    NOT NULL DEFAULT '',
	title         TEXT    NOT NULL DEFAULT '',
	site_url      TEXT    NOT NULL DEFAULT '',
	etag          TEXT    NOT NULL DEFAULT '',
	last_modified TEXT    NOT NULL DEFAULT '',
	last_poll     INTEGER NOT NULL DEFAULT 0, -- unix seconds, 0: never
	next_check    INTEGER NOT NULL DEFAULT 0, -- unix seconds, 0: due now
	last_status   INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT '',
	errors        INTEGER NOT NULL DEFAULT 0, -- consecutive failed polls
	last_new_item INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Items, one row per (feed, key). hash covers every stored field, so a poll
-- that brings nothing new writes nothing; version counts the writes.
CREATE TABLE items (
	id         INTEGER PRIMARY KEY,
	feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	guid       TEXT    NOT NULL DEFAULT '',
	url        TEXT    NOT NULL DEFAULT '',
	title      TEXT    NOT NULL DEFAULT '',
	summary    TEXT    NOT NULL DEFAULT '',
	content    TEXT    NOT NULL DEFAULT '',
	author     TEXT    NOT NULL DEFAULT '',
	email      TEXT    NOT NULL DEFAULT '',
	categories TEXT    NOT NULL DEFAULT '[]', -- JSON array, as the source wrote them
	enclosures TEXT    NOT NULL DEFAULT '[]', -- JSON array of {url, type, length}
	published  INTEGER,                       -- unix seconds, NULL: the source gave none
	updated    INTEGER,
	first_seen INTEGER NOT NULL,
	sort_time  INTEGER NOT NULL,              -- coalesce(published, updated, first_seen)
	hash       BLOB    NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	UNIQUE (feed_id, key)
) STRICT;

CREATE INDEX items_by_time ON items (sort_time DESC, id DESC);

-- The tags an item carries, with its sort time copied in so that the newest
-- items of a tag are one range scan of item_tags_by_time.
CREATE TABLE item_tags (
	item_id   INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
	tag       TEXT    NOT NULL,
	sort_time INTEGER NOT NULL,
	PRIMARY KEY (item_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX item_tags_by_time ON item_tags (tag, sort_time DESC, item_id DESC);
