-- The outcome log the matcher's weights are tuned on (`zhiqilian tune`):
-- for every match the firms contacted, declined, agreed on (agreement
-- confirmed) or completed, the factor values the match showed at that
-- moment. No person and no firm is named: listing ids, the outcome, the
-- request's urgency, the score and the factor values only. Pruned after
-- `retention_outcomes_days`.
CREATE TABLE match_outcomes (
    id           TEXT PRIMARY KEY NOT NULL,
    match_id     TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    offer_id     TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('declined', 'contacted', 'agreed', 'completed')),
    urgency      TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'emergency')),
    score        DOUBLE PRECISION NOT NULL,
    factors      TEXT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX match_outcomes_match ON match_outcomes(match_id);
CREATE INDEX match_outcomes_recorded ON match_outcomes(recorded_at);
