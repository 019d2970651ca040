-- Deals carried to the end (docs/DEALS.md): calls for quotes on requests,
-- quotes, two-sided versioned agreements that commit quantity against both
-- listings, contacts revealed on confirmation, and ratings.

-- A request may be a call for quotes with an optional closing time.
ALTER TABLE listings ADD COLUMN quotes_wanted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE listings ADD COLUMN quotes_close_at TIMESTAMP;
-- Quantity committed by confirmed agreements, in the listing's own unit.
ALTER TABLE listings ADD COLUMN committed_amount DOUBLE PRECISION NOT NULL DEFAULT 0;
-- Set when confirmed agreements cover the whole quantity: the listing is
-- then closed (status 'closed') and shown as 'fulfilled'.
ALTER TABLE listings ADD COLUMN fulfilled_at TIMESTAMP;

CREATE TABLE quotes (
    id               TEXT PRIMARY KEY NOT NULL,
    request_id       TEXT NOT NULL REFERENCES listings(id),
    offer_id         TEXT NOT NULL REFERENCES listings(id),
    match_id         TEXT NOT NULL REFERENCES match_records(id),
    request_firm_id  TEXT NOT NULL,
    offer_firm_id    TEXT NOT NULL,
    price_amount     DOUBLE PRECISION NOT NULL,
    price_unit       TEXT NOT NULL,
    quantity_amount  DOUBLE PRECISION NOT NULL,
    quantity_unit    TEXT NOT NULL,
    available_from   TEXT,
    available_until  TEXT,
    place            TEXT NOT NULL DEFAULT '',
    terms            TEXT NOT NULL DEFAULT '',
    valid_until      TIMESTAMP,
    status           TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'declined', 'withdrawn')),
    decline_reason   TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    decided_at       TIMESTAMP
);
CREATE INDEX quotes_request ON quotes(request_id, id);
CREATE INDEX quotes_offer_firm ON quotes(offer_firm_id, id);

CREATE TABLE agreements (
    id                    TEXT PRIMARY KEY NOT NULL,
    match_id              TEXT NOT NULL REFERENCES match_records(id),
    quote_id              TEXT REFERENCES quotes(id),
    request_id            TEXT NOT NULL REFERENCES listings(id),
    offer_id              TEXT NOT NULL REFERENCES listings(id),
    request_firm_id       TEXT NOT NULL,
    offer_firm_id         TEXT NOT NULL,
    request_community_id  TEXT NOT NULL,
    offer_community_id    TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'in_progress', 'completed', 'cancelled')),
    version               INTEGER NOT NULL,
    confirmed_version     INTEGER,
    quantity_amount       DOUBLE PRECISION NOT NULL,
    quantity_unit         TEXT NOT NULL,
    price_amount          DOUBLE PRECISION NOT NULL,
    price_unit            TEXT NOT NULL,
    available_from        TEXT,
    available_until       TEXT,
    place                 TEXT NOT NULL DEFAULT '',
    proposed_by_firm      TEXT NOT NULL,
    -- What the confirmed version holds against each listing, in its unit.
    committed_request     DOUBLE PRECISION NOT NULL DEFAULT 0,
    committed_offer       DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- The total price of the confirmed version, in yuan, when computable.
    value_yuan            DOUBLE PRECISION,
    first_confirmed_at    TIMESTAMP,
    started_at            TIMESTAMP,
    completed_at          TIMESTAMP,
    cancelled_at          TIMESTAMP,
    cancel_reason         TEXT,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX agreements_match ON agreements(match_id);
CREATE INDEX agreements_request_firm ON agreements(request_firm_id, id);
CREATE INDEX agreements_offer_firm ON agreements(offer_firm_id, id);

-- Every version of an agreement's terms: who proposed it, who confirmed it.
CREATE TABLE agreement_versions (
    agreement_id      TEXT NOT NULL REFERENCES agreements(id),
    version           INTEGER NOT NULL,
    terms             TEXT NOT NULL,
    proposed_by_firm  TEXT NOT NULL,
    proposed_by       TEXT NOT NULL,
    proposed_at       TIMESTAMP NOT NULL,
    confirmed_by      TEXT,
    confirmed_at      TIMESTAMP,
    PRIMARY KEY (agreement_id, version)
);

-- Contacts revealed to both firms of a confirmed agreement: who, when, why.
CREATE TABLE contact_reveals (
    id            TEXT PRIMARY KEY NOT NULL,
    agreement_id  TEXT NOT NULL UNIQUE REFERENCES agreements(id),
    firm_a_id     TEXT NOT NULL,
    firm_b_id     TEXT NOT NULL,
    revealed_by   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    revealed_at   TIMESTAMP NOT NULL
);
CREATE INDEX contact_reveals_a ON contact_reveals(firm_a_id, firm_b_id);

CREATE TABLE ratings (
    id                TEXT PRIMARY KEY NOT NULL,
    agreement_id      TEXT NOT NULL REFERENCES agreements(id),
    rater_firm_id     TEXT NOT NULL,
    ratee_firm_id     TEXT NOT NULL,
    ratee_community_id TEXT NOT NULL,
    rated_by          TEXT NOT NULL,
    score             INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    tags              TEXT NOT NULL DEFAULT '[]',
    comment           TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    window_closes_at  TIMESTAMP NOT NULL,
    published_at      TIMESTAMP,
    UNIQUE (agreement_id, rater_firm_id)
);
CREATE INDEX ratings_ratee ON ratings(ratee_firm_id);
