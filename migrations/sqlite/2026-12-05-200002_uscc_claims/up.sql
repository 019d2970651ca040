-- A USCC may be claimed by several unverified registrations (competing
-- claims, which staff see side by side); only one firm per USCC can be
-- verified, and verifying it refuses the other claims.
--
-- SQLite cannot drop the column's UNIQUE, so the table is rebuilt (SQLite's
-- documented procedure): foreign keys off, so that dropping the old table
-- neither cascades to memberships nor trips the references to it.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE firms_new (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    uscc              TEXT NOT NULL,
    community_id      TEXT NOT NULL REFERENCES communities(id),
    address           TEXT NOT NULL DEFAULT '',
    lat               DOUBLE,
    lon               DOUBLE,
    contact_name      TEXT NOT NULL DEFAULT '',
    contact_phone     TEXT NOT NULL DEFAULT '',
    verified          BOOLEAN NOT NULL DEFAULT FALSE,
    verified_at       TIMESTAMP,
    verified_by       TEXT REFERENCES users(id),
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    claim_refused_at  TIMESTAMP
);
INSERT INTO firms_new (id, name, uscc, community_id, address, lat, lon, contact_name, contact_phone, verified, verified_at, verified_by, created_at, updated_at)
    SELECT id, name, uscc, community_id, address, lat, lon, contact_name, contact_phone, verified, verified_at, verified_by, created_at, updated_at FROM firms;
DROP TABLE firms;
ALTER TABLE firms_new RENAME TO firms;
CREATE INDEX firms_community ON firms(community_id);
CREATE INDEX firms_uscc ON firms(uscc);
CREATE UNIQUE INDEX firms_verified_uscc ON firms(uscc) WHERE verified;
COMMIT;
PRAGMA foreign_keys = ON;
