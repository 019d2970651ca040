-- Background work that must run once however many nodes run: each job has
-- one row; the node holding its lease (owner, until) does the work and
-- moves its position (for the matcher: the listing change log seq it has
-- matched up to).
CREATE TABLE work_leases (
    name      TEXT PRIMARY KEY NOT NULL,
    position  BIGINT NOT NULL DEFAULT 0,
    owner     TEXT,
    until     TIMESTAMP,
    updated_at TIMESTAMP
);
-- Listings present before this version were matched when they changed.
INSERT INTO work_leases (name, position)
    SELECT 'matching', COALESCE(MAX(seq), 0) FROM listing_changes;
INSERT INTO work_leases (name, position) VALUES ('expiry', 0);
INSERT INTO work_leases (name, position) VALUES ('sla', 0);

-- When the SLA sweep first found a case overdue (once per case).
ALTER TABLE cases ADD COLUMN overdue_at TIMESTAMP;

-- The expiry sweep walks listings by expiry time.
CREATE INDEX listings_expires_at ON listings(expires_at);
