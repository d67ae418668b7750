-- The process that made a feed's last poll, among several sharing the
-- database (its instance name), for /feeds.
ALTER TABLE feeds ADD COLUMN polled_by text NOT NULL DEFAULT '';
