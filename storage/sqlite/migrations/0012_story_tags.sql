-- The tags of each story's members, kept as they change, so that saving a
-- grouping reads the tags of the stories it touched instead of every
-- member's (a story of a syndicated wire report has thousands). A
-- story's id is its first item's, whose own tags are in item_tags; a row
-- here is a tag of one of its other members. Tags a member later loses
-- stay: a story's tags here are a superset, which only costs a
-- re-render.
CREATE TABLE story_tags (
	story_id INTEGER NOT NULL,
	tag      TEXT NOT NULL,
	PRIMARY KEY (story_id, tag)
) WITHOUT ROWID;

INSERT OR IGNORE INTO story_tags (story_id, tag)
	SELECT i.story_id, t.tag FROM items i JOIN item_tags t ON t.item_id = i.id
	WHERE i.story_id IS NOT NULL;

-- A tag given to an item already in a story (a later poll, a retag, its
-- page's topics, a copy's tags) is its story's too. Joining a story and
-- merging are SaveGrouping's to record.
CREATE TRIGGER item_tags_story AFTER INSERT ON item_tags BEGIN
	INSERT OR IGNORE INTO story_tags (story_id, tag)
		SELECT story_id, new.tag FROM items WHERE id = new.item_id AND story_id IS NOT NULL;
END;

-- A story's rows go with its last item.
CREATE TRIGGER items_story_tags_delete AFTER DELETE ON items BEGIN
	DELETE FROM story_tags WHERE story_id = coalesce(old.story_id, old.id)
		AND NOT EXISTS (SELECT 1 FROM items WHERE id = coalesce(old.story_id, old.id))
		AND NOT EXISTS (SELECT 1 FROM items WHERE story_id = coalesce(old.story_id, old.id));
END;
