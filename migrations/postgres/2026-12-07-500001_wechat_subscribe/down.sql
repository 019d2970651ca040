DROP TABLE wechat_push_cursor;
DROP TABLE wechat_pushes;
DROP TABLE wechat_subscriptions;
