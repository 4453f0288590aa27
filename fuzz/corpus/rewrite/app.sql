-- Queries from the application, checked before deploy.
SELECT * FROM shop.users WHERE email LIKE '%@example.org';

SELECT id FROM shop.users WHERE id NOT IN (SELECT user_id FROM shop.orders WHERE status = 'open');

SELECT u.id, (SELECT max(created_at) FROM shop.orders o WHERE o.user_id = u.id) AS last_order
FROM shop.users u WHERE u.country = 'FR';

SELECT id, total_cents FROM shop.orders ORDER BY created_at DESC LIMIT 20 OFFSET 50000;

SELECT p.name, oi.quantity FROM shop.products p, shop.order_items oi WHERE p.category = 'toys';

DELETE FROM shop.sessions;

SELECT id FROM shop.products ORDER BY random() LIMIT 5;

SELECT id, status FROM shop.orders WHERE user_id = $1 AND created_at > $2;
