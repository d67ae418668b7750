-- Full content: the page an item links to, fetched beside polling for the
-- feeds with full_content. page_state: 0 nothing to do, 1 to fetch, 2
-- fetched, 3 given up, 4 to apply again (the feed changed the item, whose
-- page is stored: its topics, author and date go on the new version).
-- article is the extracted article (sanitized HTML), shown as the item's
-- content; page_meta what the page says about itself (JSON: categories,
-- author, published, image). page_due is when the next attempt may be
-- made (unix seconds), page_tries the failed attempts so far, page_us how
-- long extracting the article took (microseconds).
ALTER TABLE items ADD COLUMN page_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN page_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN page_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN article TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN page_meta TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN page_us INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_page_queue ON items (page_due, id) WHERE page_state IN (1, 4);
