-- Polling health: a feed answered 410 Gone is not polled again until its
-- configuration changes (config holds a fingerprint of it); an HTML page
-- configured as a feed remembers the feed it links to.
ALTER TABLE feeds ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN discovered_url TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN config TEXT NOT NULL DEFAULT '';
