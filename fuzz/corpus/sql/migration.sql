-- A migration with the classic lock hazards.
CREATE INDEX orders_user_id_idx ON orders (user_id);

ALTER TABLE orders ADD COLUMN tracking_id uuid DEFAULT gen_random_uuid();

ALTER TABLE users ALTER COLUMN country TYPE varchar(3);

ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);

BEGIN;
CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);
COMMIT;
