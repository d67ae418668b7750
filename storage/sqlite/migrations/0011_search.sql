-- Full-text search (/search.atom?q=...): the text of each item's title,
-- and of its summary, content and fetched article, without their markup.
-- Contentless (the text is in items already) with contentless_delete, so
-- that a row can be deleted and replaced by rowid alone. storage writes
-- the rows from Go, which takes the markup out (see storage/search.go);
-- this trigger removes them, whatever deletes an item.
--
-- Tokenizer: unicode61, case folded, diacritics removed (Tehran matches
-- Tehrān, café cafe), with the marks (M*) counted as parts of words so
-- that scripts written with combining vowel signs (Devanagari, Bengali,
-- Thai ...) keep their words whole instead of breaking at every sign.
CREATE VIRTUAL TABLE items_search USING fts5 (title, body, content = '', contentless_delete = 1,
	tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'");

CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN
	DELETE FROM items_search WHERE rowid = old.id;
END;

-- The items stored before are put in the index by storage when it opens
-- the database (a batch per transaction, resumed if interrupted): SQL
-- cannot take their markup out.
INSERT INTO meta (key, value) VALUES ('search_fill', '0')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
