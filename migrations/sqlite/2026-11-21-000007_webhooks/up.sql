-- Webhook subscriptions of API clients and their persistent outbox.
CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY NOT NULL,
    client_id             TEXT NOT NULL REFERENCES api_clients(id),
    url                   TEXT NOT NULL,
    -- Space-separated webhook event types.
    event_types           TEXT NOT NULL,
    -- The HMAC-SHA256 signing key (shown once; needed to sign, so kept).
    secret                TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason       TEXT,
    -- Events after this id of the event log are delivered.
    from_event_id         BIGINT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_client ON webhooks(client_id, id);

-- One row per (subscription, event): delivered in event order per
-- subscription, retried with backoff.
CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY NOT NULL,
    webhook_id        TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id          BIGINT NOT NULL,
    event_type        TEXT NOT NULL,
    body              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMP NOT NULL,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        TIMESTAMP NOT NULL,
    delivered_at      TIMESTAMP,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(status, webhook_id, event_id);

-- How far the event log has been fanned out to subscriptions.
CREATE TABLE webhook_cursor (
    id             INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_event_id  BIGINT NOT NULL
);
INSERT INTO webhook_cursor (id, last_event_id)
    SELECT 1, COALESCE(MAX(id), 0) FROM stream_events;
