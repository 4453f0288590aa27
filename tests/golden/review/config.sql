-- Reviewed with config.pgvise.yaml: leading-wildcard-like disabled,
-- select-star enabled, large-offset-pagination raised to error with
-- max_offset lowered to 100 (OFFSET 500 fires; by default it would not).
SELECT * FROM users WHERE email LIKE '%@example.org';

SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 500;
