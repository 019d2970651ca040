PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE firms_old (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    uscc           TEXT NOT NULL UNIQUE,
    community_id   TEXT NOT NULL REFERENCES communities(id),
    address        TEXT NOT NULL DEFAULT '',
    lat            DOUBLE,
    lon            DOUBLE,
    contact_name   TEXT NOT NULL DEFAULT '',
    contact_phone  TEXT NOT NULL DEFAULT '',
    verified       BOOLEAN NOT NULL DEFAULT FALSE,
    verified_at    TIMESTAMP,
    verified_by    TEXT REFERENCES users(id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
INSERT INTO firms_old (id, name, uscc, community_id, address, lat, lon, contact_name, contact_phone, verified, verified_at, verified_by, created_at, updated_at)
    SELECT id, name, uscc, community_id, address, lat, lon, contact_name, contact_phone, verified, verified_at, verified_by, created_at, updated_at FROM firms;
DROP TABLE firms;
ALTER TABLE firms_old RENAME TO firms;
CREATE INDEX firms_community ON firms(community_id);
COMMIT;
PRAGMA foreign_keys = ON;
