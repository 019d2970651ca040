-- `zhiqilian rematch`: match records for every open listing again (after a
-- change of weights or vocabulary, or an import), done by whichever node
-- holds the matching lease, resumable from the last listing matched.
CREATE TABLE rematch_runs (
    id               TEXT PRIMARY KEY NOT NULL,
    reason           TEXT NOT NULL,
    total            BIGINT NOT NULL,
    done             BIGINT NOT NULL DEFAULT 0,
    last_listing_id  TEXT NOT NULL DEFAULT '',
    requested_at     TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    finished_at      TIMESTAMP
);
CREATE INDEX rematch_runs_unfinished ON rematch_runs(finished_at, requested_at);
