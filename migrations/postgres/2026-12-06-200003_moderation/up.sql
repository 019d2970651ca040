-- The community as the park's front desk (3): moderation.

-- A listing staff hid (it is closed too); its firm sees why.
ALTER TABLE listings ADD COLUMN hidden_reason TEXT;
ALTER TABLE listings ADD COLUMN hidden_at TIMESTAMP;
-- A suspended firm: its listings leave others' view and its users cannot
-- sign in until staff lift the suspension.
ALTER TABLE firms ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE firms ADD COLUMN suspended_reason TEXT;

-- Reports of a listing, a message or a firm by any signed-in user.
CREATE TABLE reports (
    id                TEXT PRIMARY KEY NOT NULL,
    reporter_user_id  TEXT NOT NULL REFERENCES users(id),
    subject_type      TEXT NOT NULL CHECK (subject_type IN ('listing', 'message', 'firm')),
    subject_id        TEXT NOT NULL,
    firm_id           TEXT NOT NULL REFERENCES firms(id),
    community_id      TEXT NOT NULL REFERENCES communities(id),
    reason            TEXT NOT NULL,
    text              TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('open', 'actioned', 'dismissed')),
    created_at        TIMESTAMP NOT NULL,
    handled_at        TIMESTAMP,
    handled_by        TEXT REFERENCES users(id),
    outcome           TEXT
);
CREATE INDEX reports_queue ON reports(community_id, status, id);
CREATE INDEX reports_subject ON reports(subject_type, subject_id);
CREATE INDEX reports_firm ON reports(firm_id);

-- What staff did, per firm (repeat offenders stand out); the audit log has
-- the same entries with their details.
CREATE TABLE moderation_actions (
    id             TEXT PRIMARY KEY NOT NULL,
    firm_id        TEXT NOT NULL REFERENCES firms(id),
    community_id   TEXT NOT NULL REFERENCES communities(id),
    action         TEXT NOT NULL,
    subject_type   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    actor_user_id  TEXT NOT NULL REFERENCES users(id),
    report_id      TEXT REFERENCES reports(id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX moderation_actions_firm ON moderation_actions(firm_id);
