DROP TABLE rematch_runs;
