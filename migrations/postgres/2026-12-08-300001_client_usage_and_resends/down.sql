DROP TABLE api_client_usage;
DELETE FROM webhook_deliveries WHERE resend_of IS NOT NULL OR event_type = 'ping';
DROP INDEX webhook_deliveries_first;
ALTER TABLE webhook_deliveries DROP COLUMN resend_of;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_webhook_id_event_id_key UNIQUE (webhook_id, event_id);
