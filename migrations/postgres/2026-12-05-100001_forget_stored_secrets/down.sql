-- What was forgotten stays forgotten.
SELECT 1;
