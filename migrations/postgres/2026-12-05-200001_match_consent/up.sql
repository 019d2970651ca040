-- A match is agreed only when both firms have agreed: each side's consent
-- is recorded on its own. Records agreed before this change count as
-- agreed by both.
ALTER TABLE match_records ADD COLUMN request_agreed_at TIMESTAMP;
ALTER TABLE match_records ADD COLUMN request_agreed_by TEXT;
ALTER TABLE match_records ADD COLUMN offer_agreed_at TIMESTAMP;
ALTER TABLE match_records ADD COLUMN offer_agreed_by TEXT;
UPDATE match_records
   SET request_agreed_at = COALESCE(agreed_at, updated_at),
       offer_agreed_at = COALESCE(agreed_at, updated_at)
 WHERE status = 'agreed';
