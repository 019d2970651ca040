-- Short links to listings, for the open-needs digest staff paste into the
-- park's WeChat groups: /s/{code} redirects to the listing in the firm app.
-- One code per listing; clicks counted.
CREATE TABLE short_links (
    code          TEXT PRIMARY KEY NOT NULL,
    listing_id    TEXT NOT NULL UNIQUE REFERENCES listings(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    TIMESTAMP NOT NULL,
    clicks        BIGINT NOT NULL DEFAULT 0
);
