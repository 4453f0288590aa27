-- Demo input for `pgvise rewrite` on the demo database (users, orders,
-- products, order_items in schema shop). Each statement shows one pass or
-- one refusal.

-- The seed shape: a SubPlan counting orders once per user.
SELECT u.id FROM shop.users u
WHERE (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) > 10;

-- The COUNT bug: users without orders must stay (LEFT JOIN + COALESCE).
SELECT u.id FROM shop.users u
WHERE (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) = 0;

-- Select-list aggregate.
SELECT o.id, (SELECT count(*) FROM shop.order_items i WHERE i.order_id = o.id) AS items
FROM shop.orders o;

-- Products never ordered.
SELECT p.id FROM shop.products p
WHERE (SELECT count(*) FROM shop.order_items i WHERE i.product_id = p.id) = 0;

-- NOT IN: rewritten only when both columns are NOT NULL in the catalog.
SELECT u.id FROM shop.users u WHERE u.id NOT IN (SELECT o.user_id FROM shop.orders o);

-- Refused: a LIMIT 1 lookup picks one row per user.
SELECT u.id, (SELECT o.id FROM shop.orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT 1) AS last_order
FROM shop.users u;

-- Left alone: PostgreSQL already makes EXISTS a semi-join.
SELECT u.id FROM shop.users u WHERE EXISTS (SELECT 1 FROM shop.orders o WHERE o.user_id = u.id);
