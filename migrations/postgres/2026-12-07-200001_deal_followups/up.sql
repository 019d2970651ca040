-- Deals, continued (docs/DEALS.md): a requester asks a quoting firm to
-- revise; staff propose an agreement on a brokered case for the requester
-- (both firms confirm it); staff hide an abusive rating comment; a sweep
-- publishes ratings when their window closes; reputations are kept as
-- running tallies instead of being recounted from every agreement.

-- The requester's pending request that a quote be revised (cleared when the
-- quoting firm revises or withdraws it).
ALTER TABLE quotes ADD COLUMN revision_requested_at TIMESTAMP;
ALTER TABLE quotes ADD COLUMN revision_requested_by TEXT;
ALTER TABLE quotes ADD COLUMN revision_message TEXT;

-- A version proposed by staff for the requesting firm (the staff user), the
-- case it was proposed on, and the first firm that confirmed such a version
-- (both firms must).
ALTER TABLE agreements ADD COLUMN proposed_by_staff TEXT;
ALTER TABLE agreements ADD COLUMN case_id TEXT;
ALTER TABLE agreements ADD COLUMN confirmed_first_by_firm TEXT;

-- A rating comment staff hid as abusive (the score still counts).
ALTER TABLE ratings ADD COLUMN comment_hidden_at TIMESTAMP;
ALTER TABLE ratings ADD COLUMN comment_hidden_by TEXT;
ALTER TABLE ratings ADD COLUMN comment_hidden_reason TEXT;
CREATE INDEX ratings_window ON ratings(window_closes_at) WHERE published_at IS NULL;

-- The rating-window sweep (background job `ratings`).
INSERT INTO work_leases (name, position) VALUES ('ratings', 0);

-- What reputations are computed from, per firm and the community the deal
-- or rating counted in (a park's prior is the sum over its rows): updated in
-- the transactions that confirm, complete or cancel an agreement and that
-- publish ratings.
CREATE TABLE reputation_tallies (
    firm_id       TEXT NOT NULL,
    community_id  TEXT NOT NULL,
    confirmed     INTEGER NOT NULL DEFAULT 0,
    completed     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    ratings       INTEGER NOT NULL DEFAULT 0,
    rating_sum    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (firm_id, community_id)
);
CREATE INDEX reputation_tallies_community ON reputation_tallies(community_id);

-- Deals and ratings made before this version.
INSERT INTO reputation_tallies (firm_id, community_id, confirmed, completed, failed)
SELECT firm_id, community_id, COUNT(*),
       SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END)
FROM (
    SELECT request_firm_id AS firm_id, request_community_id AS community_id, status
      FROM agreements WHERE first_confirmed_at IS NOT NULL
    UNION ALL
    SELECT offer_firm_id, offer_community_id, status
      FROM agreements WHERE first_confirmed_at IS NOT NULL
) d
GROUP BY firm_id, community_id;
INSERT INTO reputation_tallies (firm_id, community_id)
SELECT DISTINCT ratee_firm_id, ratee_community_id FROM ratings
 WHERE published_at IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM reputation_tallies t
                    WHERE t.firm_id = ratings.ratee_firm_id
                      AND t.community_id = ratings.ratee_community_id);
UPDATE reputation_tallies SET
    ratings = (SELECT COUNT(*) FROM ratings r
                WHERE r.published_at IS NOT NULL AND r.ratee_firm_id = reputation_tallies.firm_id
                  AND r.ratee_community_id = reputation_tallies.community_id),
    rating_sum = (SELECT COALESCE(SUM(r.score), 0) FROM ratings r
                WHERE r.published_at IS NOT NULL AND r.ratee_firm_id = reputation_tallies.firm_id
                  AND r.ratee_community_id = reputation_tallies.community_id);

-- Response times: in a thread between two firms, the first message one firm
-- writes opens a row for the other; that firm's first message after it is
-- its response. Written with the messages.
CREATE TABLE thread_responses (
    thread_id     TEXT PRIMARY KEY NOT NULL REFERENCES threads(id),
    firm_id       TEXT NOT NULL,
    opened_at     TIMESTAMP NOT NULL,
    responded_at  TIMESTAMP
);
CREATE INDEX thread_responses_firm ON thread_responses(firm_id);

-- Threads written in before this version.
INSERT INTO thread_responses (thread_id, firm_id, opened_at, responded_at)
SELECT o.thread_id, o.responder, o.created_at,
       (SELECT MIN(r.created_at) FROM messages r
         WHERE r.thread_id = o.thread_id AND r.author_firm_id = o.responder AND r.seq > o.seq)
FROM (
    SELECT m.thread_id, m.seq, m.created_at,
           CASE WHEN m.author_firm_id = t.firm_a_id THEN t.firm_b_id ELSE t.firm_a_id END AS responder
      FROM messages m JOIN threads t ON t.id = m.thread_id
     WHERE m.author_firm_id IS NOT NULL
       AND m.author_firm_id IN (t.firm_a_id, t.firm_b_id)
       AND t.firm_a_id <> t.firm_b_id
       AND m.seq = (SELECT MIN(f.seq) FROM messages f
                     WHERE f.thread_id = m.thread_id AND f.author_firm_id IN (t.firm_a_id, t.firm_b_id))
) o;
