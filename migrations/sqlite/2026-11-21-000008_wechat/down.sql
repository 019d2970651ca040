DROP TABLE wechat_bindings;
