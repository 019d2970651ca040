ALTER TABLE community_staff DROP COLUMN disabled_at;
DROP TABLE district_admins;
DROP TABLE district_communities;
DROP TABLE districts;
