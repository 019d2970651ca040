-- Stored match suggestions with their lifecycle, and the event log that
-- notifications, webhooks and live streams consume.
CREATE TABLE match_records (
    id                    TEXT PRIMARY KEY NOT NULL,
    request_id            TEXT NOT NULL REFERENCES listings(id),
    offer_id              TEXT NOT NULL REFERENCES listings(id),
    request_firm_id       TEXT NOT NULL,
    offer_firm_id         TEXT NOT NULL,
    request_community_id  TEXT NOT NULL,
    offer_community_id    TEXT NOT NULL,
    score                 DOUBLE PRECISION NOT NULL,
    partial               BOOLEAN NOT NULL,
    factors               TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('suggested', 'contacted', 'agreed', 'declined', 'expired')),
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    UNIQUE (request_id, offer_id)
);
CREATE INDEX match_records_request_firm ON match_records(request_firm_id, id);
CREATE INDEX match_records_offer_firm ON match_records(offer_firm_id, id);
CREATE INDEX match_records_offer ON match_records(offer_id);

CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type        TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
