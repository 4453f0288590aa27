-- Correlated subqueries: the review carries `pgvise rewrite`'s proposal.
-- Users with fewer than 3 orders (0 included: the COUNT bug needs a LEFT JOIN).
SELECT u.id, u.email
FROM users u
WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) < 3;

-- Each user's latest order total: one row per user picked by ORDER BY ... LIMIT 1,
-- which no grouped join expresses, so the rewrite is refused with the reason.
SELECT u.id,
       (SELECT o.total_cents FROM orders o WHERE o.user_id = u.id ORDER BY o.created_at DESC LIMIT 1) AS last_total
FROM users u;
