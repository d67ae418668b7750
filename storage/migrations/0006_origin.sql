-- An aggregator's item (Google News, Bing News) names the publisher whose
-- article it carries: origin_title and origin_url. copy_key
-- (feedmux.CopyKey: the publisher's host and the headline's words) lets
-- such an item and the publisher's own item be recognized as one article,
-- whichever arrives first; the publisher's item is then the first and the
-- aggregator's its copy (dup_of).
ALTER TABLE items ADD COLUMN origin_title TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN origin_url TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN copy_key TEXT NOT NULL DEFAULT '';
CREATE INDEX items_by_copy_key ON items (copy_key) WHERE copy_key <> '';
