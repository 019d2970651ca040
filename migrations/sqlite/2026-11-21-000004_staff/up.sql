-- Community staff: cases (the staff queue of urgent and emergency requests),
-- the contacts staff brokered, the audit log of staff actions, per-user
-- notifications, and when a match was agreed (for park statistics).
ALTER TABLE match_records ADD COLUMN agreed_at TIMESTAMP;

CREATE TABLE cases (
    id                   TEXT PRIMARY KEY NOT NULL,
    listing_id           TEXT NOT NULL UNIQUE REFERENCES listings(id),
    firm_id              TEXT NOT NULL REFERENCES firms(id),
    -- The community whose staff hold the case now (changes on escalation).
    community_id         TEXT NOT NULL REFERENCES communities(id),
    -- The requesting firm's community, where the case was opened.
    origin_community_id  TEXT NOT NULL REFERENCES communities(id),
    escalated_from       TEXT REFERENCES communities(id),
    urgency              TEXT NOT NULL CHECK (urgency IN ('urgent', 'emergency')),
    status               TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'brokered', 'resolved')),
    claimed_by           TEXT REFERENCES users(id),
    claimed_at           TIMESTAMP,
    first_contact_at     TIMESTAMP,
    resolved_at          TIMESTAMP,
    outcome              TEXT CHECK (outcome IN ('solved', 'partly', 'not_solved')),
    outcome_note         TEXT NOT NULL DEFAULT '',
    opened_at            TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    CHECK ((status = 'resolved') = (outcome IS NOT NULL))
);
CREATE INDEX cases_queue ON cases(community_id, status, id);
CREATE INDEX cases_origin ON cases(origin_community_id, opened_at);

-- Offers a case was brokered to: one match record and its thread each.
CREATE TABLE case_contacts (
    case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    match_id       TEXT NOT NULL REFERENCES match_records(id),
    thread_id      TEXT NOT NULL REFERENCES threads(id),
    offer_id       TEXT NOT NULL REFERENCES listings(id),
    offer_firm_id  TEXT NOT NULL REFERENCES firms(id),
    brokered_by    TEXT NOT NULL REFERENCES users(id),
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, match_id)
);

-- Every staff action, written in the transaction of the action.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY NOT NULL,
    at             TIMESTAMP NOT NULL,
    actor_user_id  TEXT NOT NULL REFERENCES users(id),
    actor_name     TEXT NOT NULL,
    community_id   TEXT NOT NULL,
    action         TEXT NOT NULL,
    case_id        TEXT,
    subject_type   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_community ON audit_log(community_id, id);
CREATE INDEX audit_log_case ON audit_log(case_id, id);

CREATE TABLE notifications (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    thread_id     TEXT,
    -- Unread notifications with the same key are replaced (one per thread).
    group_key     TEXT,
    count         INTEGER NOT NULL DEFAULT 1,
    read_at       TIMESTAMP,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_group ON notifications(user_id, group_key);
