DROP TABLE case_notes;
DELETE FROM cases WHERE urgency = 'normal';
ALTER TABLE cases DROP CONSTRAINT cases_urgency_check;
ALTER TABLE cases ADD CONSTRAINT cases_urgency_check CHECK (urgency IN ('urgent', 'emergency'));
ALTER TABLE listings DROP COLUMN posted_by_staff;
