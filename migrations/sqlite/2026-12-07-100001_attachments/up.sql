-- Photos and PDFs attached to a listing, a quote, a message, an agreement
-- (proof of delivery) or a firm (its business licence). The bytes live in
-- the object store (`attachments/<id>/original`, `attachments/<id>/thumbnail`);
-- this row says what they are and what they belong to. A parent is named
-- by type and id (no foreign key: five parent tables); the attachments
-- sweep removes rows and objects whose parent is gone.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY NOT NULL,
    parent_type     TEXT NOT NULL CHECK (parent_type IN ('listing', 'quote', 'message', 'agreement', 'firm')),
    parent_id       TEXT NOT NULL,
    firm_id         TEXT REFERENCES firms(id),
    uploaded_by     TEXT NOT NULL REFERENCES users(id),
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    byte_size       BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    has_thumbnail   BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX attachments_parent ON attachments(parent_type, parent_id, id);

-- The attachments sweep runs on one node at a time.
INSERT INTO work_leases (name, position) VALUES ('attachments', 0);
