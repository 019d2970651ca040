DROP TABLE api_client_usage;
DELETE FROM webhook_deliveries WHERE resend_of IS NOT NULL OR event_type = 'ping';
CREATE TABLE webhook_deliveries_old (
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
INSERT INTO webhook_deliveries_old SELECT id, webhook_id, event_id, event_type, body, status,
    attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at
FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_old RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(status, webhook_id, event_id);
CREATE INDEX webhook_deliveries_created_at ON webhook_deliveries(created_at);
