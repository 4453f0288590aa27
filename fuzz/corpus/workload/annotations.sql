-- pgvise: calls=10
SELECT 1;
-- pgvise: calls=abc
SELECT $1;
-- pgvise: calls=1e400
SELECT 2;
-- pgvise:
