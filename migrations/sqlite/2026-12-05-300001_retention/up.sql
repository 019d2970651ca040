-- The retention sweep (background job `retention`): its lease row, whose
-- position is the highest event id pruned from the event log (a stream
-- resuming from below it is told to reload), and indexes for pruning by age.
INSERT INTO work_leases (name, position) VALUES ('retention', 0);
CREATE INDEX notifications_created_at ON notifications(created_at);
CREATE INDEX webhook_deliveries_created_at ON webhook_deliveries(created_at);
CREATE INDEX login_throttle_first_failure_at ON login_throttle(first_failure_at);
