-- The same changes done safely: nothing to report.
SET lock_timeout = '2s';

CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);

ALTER TABLE orders ADD COLUMN tracking_id uuid;

ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
