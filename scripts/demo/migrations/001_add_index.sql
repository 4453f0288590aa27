-- Add an index for the order lookup (blocks writes to orders while it builds).
CREATE INDEX orders_user_id_idx ON shop.orders (user_id);
