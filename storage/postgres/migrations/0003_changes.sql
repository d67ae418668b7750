-- Several feedmux processes on one database tell each other of their
-- changes with NOTIFY; n counts them, so that a process that missed a
-- notification (its connection broke) sees the count move and drops its
-- whole render cache.
CREATE TABLE changes (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n   bigint  NOT NULL DEFAULT 0
);
INSERT INTO changes DEFAULT VALUES;
