-- A USCC may be claimed by several unverified registrations (competing
-- claims, which staff see side by side); only one firm per USCC can be
-- verified, and verifying it refuses the other claims.
ALTER TABLE firms DROP CONSTRAINT firms_uscc_key;
CREATE INDEX firms_uscc ON firms(uscc);
CREATE UNIQUE INDEX firms_verified_uscc ON firms(uscc) WHERE verified;
ALTER TABLE firms ADD COLUMN claim_refused_at TIMESTAMP;
