-- A park's own vocabulary: dictionary words and synonym groups its staff
-- add on top of the shipped vocabulary (search-index/vocab/). Entries are
-- never deleted: removing one stamps `removed_at`, so an undo can bring it
-- back. `terms` holds the normalised terms joined with '/', `term_key` the
-- same terms sorted (a group is a set), unique among a park's live entries.
CREATE TABLE vocabulary_entries (
    id            TEXT PRIMARY KEY NOT NULL,
    community_id  TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('word', 'synonyms')),
    terms         TEXT NOT NULL,
    term_key      TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    removed_at    TIMESTAMP
);
CREATE INDEX vocabulary_entries_community ON vocabulary_entries(community_id);
CREATE UNIQUE INDEX vocabulary_entries_live ON vocabulary_entries(community_id, kind, term_key)
    WHERE removed_at IS NULL;
-- Every add and remove, in order; `version` is the deployment-wide
-- vocabulary version the change produced. An undo reverts one change and
-- stamps it `undone_at` with the version the undo produced.
CREATE TABLE vocabulary_changes (
    id              TEXT PRIMARY KEY NOT NULL,
    version         BIGINT NOT NULL UNIQUE,
    community_id    TEXT NOT NULL,
    entry_id        TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    actor_user_id   TEXT NOT NULL,
    at              TIMESTAMP NOT NULL,
    undone_at       TIMESTAMP,
    undone_version  BIGINT
);
CREATE INDEX vocabulary_changes_community ON vocabulary_changes(community_id, version);
-- One row: the version every node polls to learn that the vocabulary
-- changed. Bumped (a row lock) in the transaction of each change.
CREATE TABLE vocabulary_version (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO vocabulary_version (id, version) VALUES (1, 0);
