SET lock_timeout = '2s';
BEGIN;
ALTER TABLE shop.order_items ADD CONSTRAINT order_items_qty_positive CHECK (quantity > 0);
ALTER TABLE shop.orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES shop.users (id);
CREATE INDEX CONCURRENTLY products_category_idx ON shop.products (category);
COMMIT;
