DROP TABLE firm_invites;
DROP TABLE password_resets;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN session_version;
