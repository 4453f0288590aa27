SELECT u.id, u.email FROM shop.users u
WHERE u.id <= 200 AND (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) > 3;
