DROP TABLE events;
DROP TABLE match_records;
