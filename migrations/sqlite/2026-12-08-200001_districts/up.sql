-- Districts (区域): an administrative unit over several communities (a
-- district's industrial communities, a park's), with its administrators,
-- who read their communities' queues and statistics and manage their
-- staff accounts. A staff account can be disabled (and enabled again).
CREATE TABLE districts (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE district_communities (
    district_id   TEXT NOT NULL REFERENCES districts(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (district_id, community_id)
);
CREATE INDEX district_communities_community ON district_communities(community_id);
CREATE TABLE district_admins (
    district_id  TEXT NOT NULL REFERENCES districts(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (district_id, user_id)
);
CREATE INDEX district_admins_user ON district_admins(user_id);
ALTER TABLE community_staff ADD COLUMN disabled_at TIMESTAMP;
