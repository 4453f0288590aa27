-- The demo application's queries, with how often each runs (pgvise advise
-- reads `-- pgvise: calls=N`). Constants are kept: partial and expression
-- indexes need them.

-- pgvise: calls=5000
SELECT id, status, total_cents, created_at FROM shop.orders
WHERE user_id = 4242 ORDER BY created_at DESC LIMIT 20;

-- pgvise: calls=2000
SELECT id, name FROM shop.users WHERE lower(email) = 'user77@example.com';

-- pgvise: calls=800
SELECT o.id, o.created_at, o.total_cents FROM shop.orders o
WHERE o.status = 'open' ORDER BY o.created_at LIMIT 50;

-- pgvise: calls=1200
SELECT oi.product_id, sum(oi.quantity) FROM shop.order_items oi
WHERE oi.product_id = 17 GROUP BY oi.product_id;

-- pgvise: calls=300
SELECT id, email FROM shop.users WHERE country = 'DE' AND status = 'banned' AND deleted_at IS NULL;

-- pgvise: calls=150
SELECT count(*) FROM shop.users WHERE profile @> '{"plan": "team"}';

-- pgvise: calls=100
SELECT u.id, u.email FROM shop.users u
WHERE (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) > 10;

-- pgvise: calls=60
SELECT date_trunc('day', created_at) AS day, count(*) FROM shop.orders
WHERE created_at >= now() - interval '7 days' GROUP BY 1 ORDER BY 1;

-- The schema advisors' shapes (scripts/demo/schema.sql says which is which).
-- pgvise: calls=500
SELECT path, count(*), avg(duration_ms) FROM shop.page_views
WHERE ts >= now() - interval '1 day' GROUP BY path ORDER BY 2 DESC;

-- pgvise: calls=1
DELETE FROM shop.page_views WHERE ts < now() - interval '90 days';

-- pgvise: calls=300
SELECT p.category, sum(oi.quantity) AS units, count(*) AS lines
FROM shop.order_items oi
JOIN shop.orders o ON o.id = oi.order_id
JOIN shop.products p ON p.id = oi.product_id
WHERE o.status = 'shipped'
GROUP BY p.category;

-- pgvise: calls=100
SELECT p.category, count(*) AS lines
FROM shop.order_items oi
JOIN shop.orders o ON o.id = oi.order_id
JOIN shop.products p ON p.id = oi.product_id
WHERE o.status = 'cancelled'
GROUP BY p.category ORDER BY 2 DESC;

-- pgvise: calls=400
SELECT id, user_id FROM shop.addresses WHERE city = 'City 7' AND postcode = '00007';
