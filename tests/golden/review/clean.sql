-- A clean file: nothing to report.
SELECT id, email FROM users WHERE id = $1;
