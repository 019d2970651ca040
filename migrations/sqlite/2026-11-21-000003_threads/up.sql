-- Chat threads about a listing or a match record, their messages, read
-- markers, and the user-visible event log that live streams resume from.
CREATE TABLE threads (
    id              TEXT PRIMARY KEY NOT NULL,
    subject_type    TEXT NOT NULL CHECK (subject_type IN ('listing', 'match')),
    listing_id      TEXT REFERENCES listings(id),
    match_id        TEXT REFERENCES match_records(id),
    -- One thread per listing and asking firm, or per match record.
    subject_key     TEXT NOT NULL UNIQUE,
    -- a: the listing's firm (match: the request's); b: the other firm.
    firm_a_id       TEXT NOT NULL REFERENCES firms(id),
    firm_b_id       TEXT NOT NULL REFERENCES firms(id),
    community_a_id  TEXT NOT NULL,
    community_b_id  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    last_seq        BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    closed_at       TIMESTAMP,
    CHECK ((subject_type = 'listing') = (listing_id IS NOT NULL)),
    CHECK ((subject_type = 'match') = (match_id IS NOT NULL))
);
CREATE INDEX threads_firm_a ON threads(firm_a_id, updated_at);
CREATE INDEX threads_firm_b ON threads(firm_b_id, updated_at);
CREATE INDEX threads_community_a ON threads(community_a_id, updated_at);
CREATE INDEX threads_community_b ON threads(community_b_id, updated_at);
CREATE INDEX threads_match ON threads(match_id);

-- Community staff who joined a thread (the two firms take part by definition).
CREATE TABLE thread_staff (
    thread_id     TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    community_id  TEXT NOT NULL,
    joined_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX thread_staff_user ON thread_staff(user_id, thread_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    thread_id       TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('text', 'system')),
    author_user_id  TEXT REFERENCES users(id),
    author_firm_id  TEXT,
    author_role     TEXT NOT NULL CHECK (author_role IN ('firm', 'staff', 'system')),
    author_name     TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    event           TEXT,
    listing_ref     TEXT,
    client_msg_id   TEXT,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (thread_id, seq),
    UNIQUE (thread_id, author_user_id, client_msg_id)
);

-- Per user: the last message seq read in a thread.
CREATE TABLE thread_reads (
    thread_id      TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id),
    last_read_seq  BIGINT NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);

-- What live streams carry, in one global order; a reconnecting client
-- resumes after the id it last saw.
CREATE TABLE stream_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- Who may receive an event: f:<firm> (every member), u:<user>, c:<community>
-- (its staff).
CREATE TABLE stream_event_audience (
    audience  TEXT NOT NULL,
    event_id  BIGINT NOT NULL REFERENCES stream_events(id) ON DELETE CASCADE,
    PRIMARY KEY (audience, event_id)
);
CREATE INDEX stream_event_audience_event ON stream_event_audience(event_id);
