DROP TABLE stream_event_audience;
DROP TABLE stream_events;
DROP TABLE thread_reads;
DROP TABLE messages;
DROP TABLE thread_staff;
DROP TABLE threads;
