-- The community as the park's front desk (2): the account lifecycle.

-- Every access token and stream ticket carries the session version of its
-- user (`sv`); bumping it (a member removed, a password changed or reset,
-- an account deleted) ends them all at once, and the user's live streams
-- with them.
ALTER TABLE users ADD COLUMN session_version BIGINT NOT NULL DEFAULT 0;
-- Set when the user deleted their account: personal data is erased and the
-- name replaced by a pseudonym; the row stays for the records that name it.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

-- One-time password reset codes, issued by staff of the user's community
-- (read out over the phone or printed), stored as SHA-256.
CREATE TABLE password_resets (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    code_hash   TEXT NOT NULL UNIQUE,
    issued_by   TEXT NOT NULL REFERENCES users(id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- Invitations of a firm admin to colleagues, stored as SHA-256.
CREATE TABLE firm_invites (
    id          TEXT PRIMARY KEY NOT NULL,
    firm_id     TEXT NOT NULL REFERENCES firms(id),
    code_hash   TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    used_by     TEXT REFERENCES users(id)
);
CREATE INDEX firm_invites_firm ON firm_invites(firm_id);
