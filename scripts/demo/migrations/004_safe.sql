-- The safe way: no findings expected here.
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON shop.orders (created_at);
ALTER TABLE shop.orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0) NOT VALID;
ALTER TABLE shop.orders VALIDATE CONSTRAINT orders_total_positive;
