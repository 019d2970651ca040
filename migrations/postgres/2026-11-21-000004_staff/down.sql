DROP TABLE notifications;
DROP TABLE audit_log;
DROP TABLE case_contacts;
DROP TABLE cases;
ALTER TABLE match_records DROP COLUMN agreed_at;
