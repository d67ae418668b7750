-- One article from several feeds is shown once: canonical_url is its link
-- in canonical form (feedmux.CanonicalURL), and a later copy from another
-- feed points at the first with dup_of. A copy carries no item_tags rows:
-- its tags are added to the first's.
ALTER TABLE items ADD COLUMN canonical_url TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN dup_of INTEGER REFERENCES items (id) ON DELETE SET NULL;
CREATE INDEX items_by_canonical_url ON items (canonical_url) WHERE canonical_url <> '';
CREATE INDEX items_by_dup_of ON items (dup_of) WHERE dup_of IS NOT NULL;

-- Stories: story_id is the id of the story's first item; NULL until the
-- item is grouped (an item alone is its own story).
ALTER TABLE items ADD COLUMN story_id INTEGER;
CREATE INDEX items_by_story ON items (story_id) WHERE story_id IS NOT NULL;

-- Small facts about the database, such as the fingerprint of the rules the
-- stored items were tagged with.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
