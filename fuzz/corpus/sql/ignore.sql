-- pgvise-ignore comments: above a statement, on its line, and `all`.

-- pgvise-ignore: delete-without-where
DELETE FROM sessions;

DELETE FROM audit_log; -- pgvise-ignore: delete-without-where

-- pgvise-ignore: all
SELECT id FROM users WHERE email LIKE '%x' ORDER BY random();

-- Only the named rule is suppressed; the other still fires.
-- pgvise-ignore: order-by-random
SELECT id FROM users WHERE email LIKE '%y' ORDER BY random();

-- Not suppressed.
DELETE FROM carts;
