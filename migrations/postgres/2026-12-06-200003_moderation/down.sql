DROP TABLE moderation_actions;
DROP TABLE reports;
ALTER TABLE firms DROP COLUMN suspended_reason;
ALTER TABLE firms DROP COLUMN suspended_at;
ALTER TABLE listings DROP COLUMN hidden_at;
ALTER TABLE listings DROP COLUMN hidden_reason;
