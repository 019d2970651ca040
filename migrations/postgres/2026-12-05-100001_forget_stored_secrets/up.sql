-- Answers of `POST /api/v1/clients` and `POST /api/v1/webhooks` stored
-- for `Idempotency-Key` replays used to keep the secret they showed once.
-- They are kept without it now; forget those stored before.
DELETE FROM idempotency_keys
WHERE body LIKE '%"client_secret":"zqs%' OR body LIKE '%"secret":"whsec%';
