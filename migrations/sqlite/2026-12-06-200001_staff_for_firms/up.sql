-- The community as the park's front desk (1): staff post for a firm, any
-- listing can become a case (normal urgency has its own SLA targets), and
-- staff keep internal notes on a case that firms never see.

-- Who of the community's staff posted a listing for its firm; cleared when
-- one of the firm's admins takes the listing over.
ALTER TABLE listings ADD COLUMN posted_by_staff TEXT REFERENCES users(id);

-- Cases of any urgency: SQLite cannot change a CHECK in place, so the table
-- is rebuilt. Dropping it deletes its contacts (ON DELETE CASCADE), so they
-- are kept aside and put back.
CREATE TEMP TABLE case_contacts_keep AS SELECT * FROM case_contacts;
CREATE TABLE cases_new (
    id                   TEXT PRIMARY KEY NOT NULL,
    listing_id           TEXT NOT NULL UNIQUE REFERENCES listings(id),
    firm_id              TEXT NOT NULL REFERENCES firms(id),
    community_id         TEXT NOT NULL REFERENCES communities(id),
    origin_community_id  TEXT NOT NULL REFERENCES communities(id),
    escalated_from       TEXT REFERENCES communities(id),
    urgency              TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'emergency')),
    status               TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'brokered', 'resolved')),
    claimed_by           TEXT REFERENCES users(id),
    claimed_at           TIMESTAMP,
    first_contact_at     TIMESTAMP,
    resolved_at          TIMESTAMP,
    outcome              TEXT CHECK (outcome IN ('solved', 'partly', 'not_solved')),
    outcome_note         TEXT NOT NULL DEFAULT '',
    opened_at            TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    overdue_at           TIMESTAMP,
    CHECK ((status = 'resolved') = (outcome IS NOT NULL))
);
INSERT INTO cases_new (id, listing_id, firm_id, community_id, origin_community_id,
    escalated_from, urgency, status, claimed_by, claimed_at, first_contact_at,
    resolved_at, outcome, outcome_note, opened_at, updated_at, overdue_at)
SELECT id, listing_id, firm_id, community_id, origin_community_id,
    escalated_from, urgency, status, claimed_by, claimed_at, first_contact_at,
    resolved_at, outcome, outcome_note, opened_at, updated_at, overdue_at
FROM cases;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
CREATE INDEX cases_queue ON cases(community_id, status, id);
CREATE INDEX cases_origin ON cases(origin_community_id, opened_at);
INSERT INTO case_contacts SELECT * FROM case_contacts_keep;
DROP TABLE case_contacts_keep;

-- Staff-only notes on a case: never shown to firms.
CREATE TABLE case_notes (
    id              TEXT PRIMARY KEY NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    author_user_id  TEXT NOT NULL REFERENCES users(id),
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, id);
