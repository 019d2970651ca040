-- The community as the park's front desk (1): staff post for a firm, any
-- listing can become a case (normal urgency has its own SLA targets), and
-- staff keep internal notes on a case that firms never see.

-- Who of the community's staff posted a listing for its firm; cleared when
-- one of the firm's admins takes the listing over.
ALTER TABLE listings ADD COLUMN posted_by_staff TEXT REFERENCES users(id);

ALTER TABLE cases DROP CONSTRAINT cases_urgency_check;
ALTER TABLE cases ADD CONSTRAINT cases_urgency_check
    CHECK (urgency IN ('normal', 'urgent', 'emergency'));

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
