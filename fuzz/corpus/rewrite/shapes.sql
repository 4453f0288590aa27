SELECT u.id FROM users u WHERE u.id NOT IN (SELECT o.user_id FROM orders o);
SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) = 0;
SELECT u.id, (SELECT max(o.total) FROM orders o WHERE o.user_id = u.id) FROM users u;
SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id GROUP BY o.status HAVING count(*) > 2);
