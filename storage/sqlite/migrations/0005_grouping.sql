-- Story grouping runs beside polling: a stored item waits in this queue
-- (ungrouped = 1) until the grouper has placed it, so a restart finds
-- every item not yet grouped. Items stored before are grouped already.
ALTER TABLE items ADD COLUMN ungrouped INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_ungrouped ON items (first_seen, id) WHERE ungrouped = 1;
