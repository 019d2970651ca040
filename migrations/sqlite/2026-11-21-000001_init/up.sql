-- Tenancy, accounts, auth and listings (SQLite). Timestamps are UTC.
CREATE TABLE communities (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    district    TEXT NOT NULL DEFAULT '',
    lat         DOUBLE,
    lon         DOUBLE,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    phone              TEXT UNIQUE,
    email              TEXT UNIQUE,
    display_name       TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    is_platform_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);

CREATE TABLE firms (
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
CREATE INDEX firms_community ON firms(community_id);

CREATE TABLE memberships (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    firm_id     TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX memberships_firm ON memberships(firm_id);

CREATE TABLE community_staff (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    community_id  TEXT NOT NULL REFERENCES communities(id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX community_staff_community ON community_staff(community_id);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    rotated_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE login_throttle (
    login             TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    first_failure_at  TIMESTAMP NOT NULL,
    locked_until      TIMESTAMP
);

CREATE TABLE listings (
    id               TEXT PRIMARY KEY NOT NULL,
    ext_key          TEXT UNIQUE,
    firm_id          TEXT NOT NULL REFERENCES firms(id),
    community_id     TEXT NOT NULL REFERENCES communities(id),
    created_by       TEXT REFERENCES users(id),
    side             TEXT NOT NULL CHECK (side IN ('offer', 'request')),
    kind             TEXT NOT NULL CHECK (kind IN ('space', 'equipment', 'material', 'logistics', 'workforce', 'service')),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    quantity_amount  DOUBLE,
    quantity_unit    TEXT,
    price_amount     DOUBLE,
    price_unit       TEXT,
    address          TEXT,
    lat              DOUBLE,
    lon              DOUBLE,
    available_from   TEXT,
    available_until  TEXT,
    urgency          TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'emergency')),
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'community')),
    status           TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    expires_at       TIMESTAMP,
    attributes       TEXT NOT NULL DEFAULT '{}',
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    closed_at        TIMESTAMP
);
CREATE INDEX listings_firm ON listings(firm_id, id);
CREATE INDEX listings_community ON listings(community_id, id);

-- The ordered change log the search indexers tail (DESIGN.md, Data flow).
CREATE TABLE listing_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id  TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    created_at  TIMESTAMP NOT NULL
);
