-- Several feedmux processes on one database: a due feed is polled by the
-- process that claims it (claimed_by, its instance name) until
-- claim_until (unix seconds) or until its poll is saved.
ALTER TABLE feeds ADD COLUMN claimed_by text NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN claim_until bigint NOT NULL DEFAULT 0;
