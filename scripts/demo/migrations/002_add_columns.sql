ALTER TABLE shop.orders ADD COLUMN tracking_id uuid DEFAULT gen_random_uuid();
ALTER TABLE shop.users ALTER COLUMN country TYPE varchar(3);
ALTER TABLE shop.orders ALTER COLUMN shipped_at SET NOT NULL;
