DROP INDEX login_throttle_first_failure_at;
DROP INDEX webhook_deliveries_created_at;
DROP INDEX notifications_created_at;
DELETE FROM work_leases WHERE name = 'retention';
