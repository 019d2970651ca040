DROP TABLE match_outcomes;
