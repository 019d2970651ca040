-- Spreadsheet imports by community staff: one row per import, with its
-- progress, so any node answers the console's polling.
CREATE TABLE import_jobs (
    id              TEXT PRIMARY KEY NOT NULL,
    community_id    TEXT NOT NULL REFERENCES communities(id),
    kind            TEXT NOT NULL CHECK (kind IN ('firms', 'listings')),
    status          TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    file_name       TEXT NOT NULL DEFAULT '',
    total_rows      INTEGER NOT NULL,
    processed_rows  INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    unchanged       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    -- JSON: [{row, column, code, message}]
    errors          TEXT NOT NULL DEFAULT '[]',
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX import_jobs_community ON import_jobs(community_id, id);
