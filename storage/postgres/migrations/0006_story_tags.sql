-- The tags of each story's members, kept as they change, so that saving a
-- grouping reads the tags of the stories it touched instead of every
-- member's (a story of a syndicated wire report has thousands). A
-- story's id is its first item's, whose own tags are in item_tags; a row
-- here is a tag of one of its other members. Tags a member later loses
-- stay: a story's tags here are a superset, which only costs a
-- re-render. The same rules as SQLite's 0012.
CREATE TABLE story_tags (
	story_id bigint NOT NULL,
	tag      text   NOT NULL,
	PRIMARY KEY (story_id, tag)
);

INSERT INTO story_tags (story_id, tag)
	SELECT DISTINCT i.story_id, t.tag FROM items i JOIN item_tags t ON t.item_id = i.id
	WHERE i.story_id IS NOT NULL
	ON CONFLICT DO NOTHING;

-- A tag given to an item already in a story (a later poll, a retag, its
-- page's topics, a copy's tags) is its story's too. Joining a story and
-- merging are SaveGrouping's to record.
CREATE FUNCTION item_tags_story() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO story_tags (story_id, tag)
		SELECT story_id, NEW.tag FROM items WHERE id = NEW.item_id AND story_id IS NOT NULL
		ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER item_tags_story AFTER INSERT ON item_tags
	FOR EACH ROW EXECUTE FUNCTION item_tags_story();

-- A story's rows go with its last item.
CREATE FUNCTION items_story_tags_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	story bigint := coalesce(OLD.story_id, OLD.id);
BEGIN
	DELETE FROM story_tags WHERE story_id = story
		AND NOT EXISTS (SELECT 1 FROM items WHERE id = story)
		AND NOT EXISTS (SELECT 1 FROM items WHERE story_id = story);
	RETURN NULL;
END $$;
CREATE TRIGGER items_story_tags_delete AFTER DELETE ON items
	FOR EACH ROW EXECUTE FUNCTION items_story_tags_delete();
