ALTER TABLE match_records DROP COLUMN offer_agreed_by;
ALTER TABLE match_records DROP COLUMN offer_agreed_at;
ALTER TABLE match_records DROP COLUMN request_agreed_by;
ALTER TABLE match_records DROP COLUMN request_agreed_at;
