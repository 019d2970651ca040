DROP TABLE ratings;
DROP TABLE contact_reveals;
DROP TABLE agreement_versions;
DROP TABLE agreements;
DROP TABLE quotes;
ALTER TABLE listings DROP COLUMN fulfilled_at;
ALTER TABLE listings DROP COLUMN committed_amount;
ALTER TABLE listings DROP COLUMN quotes_close_at;
ALTER TABLE listings DROP COLUMN quotes_wanted;
