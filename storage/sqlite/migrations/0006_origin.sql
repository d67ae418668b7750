-- An aggregator's item (Google News, Bing News) names the publisher whose
-- article it carries: origin_title and origin_url. copy_key
-- (feedmux.CopyKey: the publisher's host and the headline's words) lets
-- such an item and the publisher's own item be recognized as one article,
-- whichever arrives first; the publisher's item is then the first and the
-- aggregator's its copy (dup_of).
ALTER TABLE items ADD COLUMN origin_title TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN origin_url TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN copy_key TEXT NOT NULL DEFAULT '';
-- By time within a key, so that a headline a host repeats (a daily
-- briefing) costs a lookup the window's rows, not all of them; and the
-- aggregators' rows on their own, which a publisher's item looks up.
CREATE INDEX items_by_copy_key ON items (copy_key, sort_time) WHERE copy_key <> '';
CREATE INDEX items_aggregated ON items (copy_key, sort_time) WHERE origin_url <> '';
