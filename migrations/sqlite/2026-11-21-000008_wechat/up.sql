-- WeChat mini-program sign-in: an openid bound to one user, one per user.
CREATE TABLE wechat_bindings (
    openid      TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    unionid     TEXT,
    created_at  TIMESTAMP NOT NULL
);
