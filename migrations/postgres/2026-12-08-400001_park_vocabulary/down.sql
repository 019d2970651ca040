DROP TABLE vocabulary_version;
DROP TABLE vocabulary_changes;
DROP TABLE vocabulary_entries;
