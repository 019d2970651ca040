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
-- unique per subscription.
ALTER TABLE webhook_deliveries ADD COLUMN resend_of TEXT;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_webhook_id_event_id_key;
CREATE UNIQUE INDEX webhook_deliveries_first ON webhook_deliveries(webhook_id, event_id)
    WHERE resend_of IS NULL AND event_type <> 'ping';
