-- Items removed by retention leave a tombstone of their key, so that a
-- source still listing them does not bring them back.
CREATE TABLE tombstones (
	feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	removed_at INTEGER NOT NULL, -- unix seconds
	PRIMARY KEY (feed_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX tombstones_by_time ON tombstones (removed_at);
CREATE INDEX items_by_feed_time ON items (feed_id, sort_time DESC, id DESC);
CREATE INDEX items_by_first_seen ON items (first_seen);
