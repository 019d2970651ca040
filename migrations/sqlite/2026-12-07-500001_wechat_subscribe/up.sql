-- WeChat subscribe messages (订阅消息): alerts outside the app for users who
-- signed in through the mini-program and gave consent.

-- One row per user and topic: how many one-time consents the user gave
-- through wx.requestSubscribeMessage and has not used yet, and the user's
-- own switch in the app.
CREATE TABLE wechat_subscriptions (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic       TEXT NOT NULL CHECK (topic IN ('match', 'message', 'brokered', 'case')),
    remaining   INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, topic)
);

-- The outbox: one row per notification to send to one user, sent by any
-- node (claimed with a lease), retried with backoff.
CREATE TABLE wechat_pushes (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic            TEXT NOT NULL,
    group_key        TEXT NOT NULL,
    event_id         BIGINT NOT NULL,
    notification_id  TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'refused', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    last_errcode     BIGINT,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP,
    UNIQUE (user_id, event_id)
);
CREATE INDEX wechat_pushes_due ON wechat_pushes(status, next_attempt_at);
CREATE INDEX wechat_pushes_group ON wechat_pushes(user_id, group_key, created_at);
CREATE INDEX wechat_pushes_created_at ON wechat_pushes(created_at);

-- How far the event log has been read for pushes (starts at its head:
-- nothing from before the feature existed is sent).
CREATE TABLE wechat_push_cursor (
    id             INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_event_id  BIGINT NOT NULL
);
INSERT INTO wechat_push_cursor (id, last_event_id)
    SELECT 1, COALESCE(MAX(id), 0) FROM stream_events;
