-- The /feeds page, /metrics and the poller read every feed's page counts.
-- Without this index each count read every stored item of the feed, content
-- and all; with it only the items of full_content feeds are visited, and
-- from the index alone.
CREATE INDEX items_page_counts ON items (feed_id, page_state, page_us) WHERE page_state <> 0;
