DROP INDEX listings_expires_at;
ALTER TABLE cases DROP COLUMN overdue_at;
DROP TABLE work_leases;
