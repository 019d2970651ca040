DROP TABLE attachments;
DELETE FROM work_leases WHERE name = 'attachments';
