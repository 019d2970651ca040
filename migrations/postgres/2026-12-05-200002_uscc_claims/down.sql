ALTER TABLE firms DROP COLUMN claim_refused_at;
DROP INDEX firms_verified_uscc;
DROP INDEX firms_uscc;
ALTER TABLE firms ADD CONSTRAINT firms_uscc_key UNIQUE (uscc);
