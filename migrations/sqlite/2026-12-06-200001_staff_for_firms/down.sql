DROP TABLE case_notes;
DELETE FROM cases WHERE urgency = 'normal';
ALTER TABLE listings DROP COLUMN posted_by_staff;
