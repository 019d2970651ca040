-- API clients of third-party apps: a firm's or a community's, with scopes.
-- Each acts through a service user of its own (the author of what it
-- writes); that user has no password and no membership or staff row: its
-- roles come from the client.
CREATE TABLE api_clients (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    firm_id            TEXT REFERENCES firms(id),
    community_id       TEXT NOT NULL REFERENCES communities(id),
    user_id            TEXT NOT NULL UNIQUE REFERENCES users(id),
    scopes             TEXT NOT NULL,
    -- SHA-256 of the secret (256 random bits); the secret is shown once.
    secret_hash        TEXT NOT NULL,
    created_by         TEXT NOT NULL REFERENCES users(id),
    created_at         TIMESTAMP NOT NULL,
    secret_rotated_at  TIMESTAMP,
    revoked_at         TIMESTAMP
);
CREATE INDEX api_clients_community ON api_clients(community_id, id);
CREATE INDEX api_clients_firm ON api_clients(firm_id, id);
