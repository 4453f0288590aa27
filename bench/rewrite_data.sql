-- Data for bench/rewrite_bench.cc (pgvise rewrite): 100k users, 1M orders,
-- and a TPC-H-like part (100k) / supplier (1k) / partsupp (400k) /
-- lineitem (1M). Deterministic (setseed). Indexes on the correlation
-- columns are created and dropped by the benchmark itself.
SELECT setseed(0.42);
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, region_id int, score int);
INSERT INTO users SELECT g, 'user' || g, g % 50, g % 100 FROM generate_series(1, 100000) g;
-- ~8 orders per user on average; user_id spread over 1..120000, so about a
-- sixth of the users have none; 1% NULL user_id.
CREATE TABLE orders (id bigint NOT NULL, user_id int, total numeric(10,2), status text, created_at timestamptz);
INSERT INTO orders
SELECT g, CASE WHEN g % 100 = 0 THEN NULL ELSE 1 + floor(random() * 120000)::int END,
       round((random() * 500)::numeric, 2), (ARRAY['paid','open','void'])[1 + g % 3],
       timestamptz '2024-01-01' + g * interval '20 seconds'
FROM generate_series(1, 1000000) g;

CREATE TABLE part (p_partkey int PRIMARY KEY, p_name text, p_brand text, p_container text);
INSERT INTO part
SELECT g, (ARRAY['forest','almond','azure','blush','coral','linen','navy','olive'])[1 + (g * 7) % 8] || ' part ' || g,
       'Brand#' || (1 + g % 25), (ARRAY['SM BOX','MED BOX','LG BOX','JUMBO PKG'])[1 + (g / 25) % 4] || ''
FROM generate_series(1, 100000) g;
UPDATE part SET p_name = 'other part ' || p_partkey WHERE p_name LIKE 'forest%' AND p_partkey % 10 <> 0;
CREATE TABLE supplier (s_suppkey int PRIMARY KEY, s_name text);
INSERT INTO supplier SELECT g, 'Supplier#' || lpad(g::text, 6, '0') FROM generate_series(1, 1000) g;
CREATE TABLE partsupp (ps_partkey int NOT NULL, ps_suppkey int NOT NULL, ps_availqty int);
INSERT INTO partsupp
SELECT p, (p + i * 250) % 1000 + 1, floor(random() * 100)::int
FROM generate_series(1, 100000) p, generate_series(0, 3) i;
CREATE TABLE lineitem (l_orderkey int, l_partkey int NOT NULL, l_suppkey int NOT NULL, l_quantity numeric,
                       l_extendedprice numeric, l_shipdate date);
INSERT INTO lineitem
SELECT g, pk, (pk + (g % 4) * 250) % 1000 + 1, 1 + floor(random() * 50), round((random() * 10000)::numeric, 2),
       date '1992-01-01' + (g % 2500)
FROM (SELECT g, 1 + floor(random() * 100000)::int AS pk FROM generate_series(1, 1000000) g) s;
ANALYZE;
