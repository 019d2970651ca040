-- `Idempotency-Key`: the first answer to a creating POST, replayed to
-- retries with the same key (per caller) for 24 hours.
CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    -- SHA-256 of method, path and body: a key reused for another request
    -- is refused.
    fingerprint   TEXT NOT NULL,
    -- NULL while the first request is still being answered.
    status        INTEGER,
    content_type  TEXT,
    body          TEXT,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
