-- Application queries with slow or wrong shapes.
SELECT id FROM users WHERE email LIKE '%@example.org';

SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM orders);

SELECT u.id, (SELECT max(o.created_at) FROM orders o WHERE o.user_id = u.id) AS last_order
FROM users u;

SELECT id FROM orders ORDER BY created_at DESC LIMIT 20 OFFSET 50000;

SELECT id FROM users WHERE lower(email) = 'a@example.org';

UPDATE orders SET status = 'closed';

SELECT id FROM products ORDER BY random() LIMIT 5;

SELECT id, status FROM orders WHERE user_id = $1 AND created_at > $2;
