-- What each API client did per day (China Standard Time): requests that
-- reached a route with its token, those answered with an error (4xx/5xx),
-- tokens issued. Counted in memory on each node and added here in batches.
CREATE TABLE api_client_usage (
    client_id     TEXT NOT NULL REFERENCES api_clients(id),
    day           TEXT NOT NULL,
    requests      BIGINT NOT NULL DEFAULT 0,
    errors        BIGINT NOT NULL DEFAULT 0,
    tokens        BIGINT NOT NULL DEFAULT 0,
    last_used_at  TIMESTAMP,
    PRIMARY KEY (client_id, day)
);

-- A delivery may be sent again (a resend: a new row for the same event,
-- `resend_of` the delivery it repeats) and a subscription may get test
-- pings (type `ping`, event id 0): only the first delivery of an event is
-- unique per subscription. SQLite cannot drop a table constraint, so the
-- table is rebuilt.
CREATE TABLE webhook_deliveries_new (
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
    resend_of         TEXT
);
INSERT INTO webhook_deliveries_new (id, webhook_id, event_id, event_type, body, status,
    attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at)
SELECT id, webhook_id, event_id, event_type, body, status,
    attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at
FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(status, webhook_id, event_id);
CREATE INDEX webhook_deliveries_created_at ON webhook_deliveries(created_at);
CREATE UNIQUE INDEX webhook_deliveries_first ON webhook_deliveries(webhook_id, event_id)
    WHERE resend_of IS NULL AND event_type <> 'ping';
