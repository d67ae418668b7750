-- The host of a claimed feed, so that the per-host limit counts the live
-- claims of all processes.
ALTER TABLE feeds ADD COLUMN claim_host text NOT NULL DEFAULT '';
CREATE INDEX feeds_live_claims ON feeds (claim_host, claim_until) WHERE claim_until > 0;
