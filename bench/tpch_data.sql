-- TPC-H shaped data generated in SQL (dbgen is not available here), scale
-- factor @SF@. Row counts, keys, value domains and the date arithmetic
-- follow the TPC-H specification (v3, section 4.2.3); what differs from
-- dbgen is stated in bench/advise.md ("TPC-H against Extend"): dense order
-- keys, comment texts drawn from a short word list, o_orderstatus and
-- o_totalprice not derived from the order's lines. Deterministic
-- (setseed, one backend). No index and no key: as in the literature, the
-- only indexes are those an advisor proposes.
SELECT setseed(0.42);
CREATE TABLE region (r_regionkey int NOT NULL, r_name char(25) NOT NULL, r_comment varchar(152));
CREATE TABLE nation (n_nationkey int NOT NULL, n_name char(25) NOT NULL, n_regionkey int NOT NULL,
  n_comment varchar(152));
CREATE TABLE part (p_partkey int NOT NULL, p_name varchar(55) NOT NULL, p_mfgr char(25) NOT NULL,
  p_brand char(10) NOT NULL, p_type varchar(25) NOT NULL, p_size int NOT NULL,
  p_container char(10) NOT NULL, p_retailprice numeric(15,2) NOT NULL, p_comment varchar(23) NOT NULL);
CREATE TABLE supplier (s_suppkey int NOT NULL, s_name char(25) NOT NULL, s_address varchar(40) NOT NULL,
  s_nationkey int NOT NULL, s_phone char(15) NOT NULL, s_acctbal numeric(15,2) NOT NULL,
  s_comment varchar(101) NOT NULL);
CREATE TABLE partsupp (ps_partkey int NOT NULL, ps_suppkey int NOT NULL, ps_availqty int NOT NULL,
  ps_supplycost numeric(15,2) NOT NULL, ps_comment varchar(199) NOT NULL);
CREATE TABLE customer (c_custkey int NOT NULL, c_name varchar(25) NOT NULL, c_address varchar(40) NOT NULL,
  c_nationkey int NOT NULL, c_phone char(15) NOT NULL, c_acctbal numeric(15,2) NOT NULL,
  c_mktsegment char(10) NOT NULL, c_comment varchar(117) NOT NULL);
CREATE TABLE orders (o_orderkey int NOT NULL, o_custkey int NOT NULL, o_orderstatus char(1) NOT NULL,
  o_totalprice numeric(15,2) NOT NULL, o_orderdate date NOT NULL, o_orderpriority char(15) NOT NULL,
  o_clerk char(15) NOT NULL, o_shippriority int NOT NULL, o_comment varchar(79) NOT NULL);
CREATE TABLE lineitem (l_orderkey int NOT NULL, l_partkey int NOT NULL, l_suppkey int NOT NULL,
  l_linenumber int NOT NULL, l_quantity numeric(15,2) NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
  l_discount numeric(15,2) NOT NULL, l_tax numeric(15,2) NOT NULL, l_returnflag char(1) NOT NULL,
  l_linestatus char(1) NOT NULL, l_shipdate date NOT NULL, l_commitdate date NOT NULL,
  l_receiptdate date NOT NULL, l_shipinstruct char(25) NOT NULL, l_shipmode char(10) NOT NULL,
  l_comment varchar(44) NOT NULL);

-- A comment: a few words of a short list in which Q13's and Q16's words occur.
CREATE FUNCTION pg_temp.words(n int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg((ARRAY['furiously','carefully','special','requests','final','deposits','ironic',
    'pending','packages','blithely','regular','accounts','express','foxes','slyly','quickly',
    'bold','theodolites','even','instructions'])[1 + floor(random() * 20)::int], ' ')
  FROM generate_series(1, n) $$;

INSERT INTO region VALUES (0, 'AFRICA', 'c'), (1, 'AMERICA', 'c'), (2, 'ASIA', 'c'),
  (3, 'EUROPE', 'c'), (4, 'MIDDLE EAST', 'c');
INSERT INTO nation VALUES (0,'ALGERIA',0,'c'),(1,'ARGENTINA',1,'c'),(2,'BRAZIL',1,'c'),(3,'CANADA',1,'c'),
  (4,'EGYPT',4,'c'),(5,'ETHIOPIA',0,'c'),(6,'FRANCE',3,'c'),(7,'GERMANY',3,'c'),(8,'INDIA',2,'c'),
  (9,'INDONESIA',2,'c'),(10,'IRAN',4,'c'),(11,'IRAQ',4,'c'),(12,'JAPAN',2,'c'),(13,'JORDAN',4,'c'),
  (14,'KENYA',0,'c'),(15,'MOROCCO',0,'c'),(16,'MOZAMBIQUE',0,'c'),(17,'PERU',1,'c'),(18,'CHINA',2,'c'),
  (19,'ROMANIA',3,'c'),(20,'SAUDI ARABIA',4,'c'),(21,'VIETNAM',2,'c'),(22,'RUSSIA',3,'c'),
  (23,'UNITED KINGDOM',3,'c'),(24,'UNITED STATES',1,'c');

-- P_NAME: five of the spec's 92 colour words; P_TYPE, P_CONTAINER: the spec's syllables.
INSERT INTO part
SELECT g,
  (SELECT string_agg(w, ' ') FROM (SELECT (ARRAY['almond','antique','aquamarine','azure','beige',
    'bisque','black','blanched','blue','blush','brown','burlywood','burnished','chartreuse','chiffon',
    'chocolate','coral','cornflower','cornsilk','cream','cyan','dark','deep','dim','dodger','drab',
    'firebrick','floral','forest','frosted','gainsboro','ghost','goldenrod','green','grey','honeydew',
    'hot','indian','ivory','khaki','lace','lavender','lawn','lemon','light','lime','linen','magenta',
    'maroon','medium','metallic','midnight','mint','misty','moccasin','navajo','navy','olive','orange',
    'orchid','pale','papaya','peach','peru','pink','plum','powder','puff','purple','red','rose','rosy',
    'royal','saddle','salmon','sandy','seashell','sienna','sky','slate','smoke','snow','spring','steel',
    'tan','thistle','tomato','turquoise','violet','wheat','white','yellow'])[1 + floor(random() * 92)::int] w
    FROM generate_series(1, 5) WHERE g > 0) x),
  'Manufacturer#' || m, 'Brand#' || m || (1 + floor(random() * 5)::int),
  (ARRAY['STANDARD','SMALL','MEDIUM','LARGE','ECONOMY','PROMO'])[1 + floor(random() * 6)::int] || ' ' ||
  (ARRAY['ANODIZED','BURNISHED','PLATED','POLISHED','BRUSHED'])[1 + floor(random() * 5)::int] || ' ' ||
  (ARRAY['TIN','NICKEL','BRASS','STEEL','COPPER'])[1 + floor(random() * 5)::int],
  1 + floor(random() * 50)::int,
  (ARRAY['SM','LG','MED','JUMBO','WRAP'])[1 + floor(random() * 5)::int] || ' ' ||
  (ARRAY['CASE','BOX','BAG','JAR','PKG','PACK','CAN','DRUM'])[1 + floor(random() * 8)::int],
  (90000 + ((g / 10) % 20001) + 100 * (g % 1000)) / 100.0, left(pg_temp.words(2), 23)
FROM (SELECT g, 1 + floor(random() * 5)::int AS m FROM generate_series(1, (200000 * @SF@)::int) g OFFSET 0) s;

-- S_COMMENT: 5 per 10,000 suppliers complain (Q16's "Customer ... Complaints").
INSERT INTO supplier
SELECT g, 'Supplier#' || lpad(g::text, 9, '0'), pg_temp.words(2), n,
  (n + 10) || '-' || (100 + floor(random() * 900)::int) || '-' || (100 + floor(random() * 900)::int)
    || '-' || (1000 + floor(random() * 9000)::int),
  round((-999.99 + random() * 10999.98)::numeric, 2),
  CASE WHEN random() < 0.0005 THEN 'slyly Customer even Complaints' ELSE pg_temp.words(4) END
FROM (SELECT g, floor(random() * 25)::int AS n FROM generate_series(1, (10000 * @SF@)::int) g OFFSET 0) s;

-- Four suppliers per part, the spec's formula.
INSERT INTO partsupp
SELECT p, ((p + i * (sc / 4 + (p - 1) / sc)) % sc) + 1, 1 + floor(random() * 9999)::int,
  round((1 + random() * 999)::numeric, 2), pg_temp.words(3)
FROM generate_series(1, (200000 * @SF@)::int) p, generate_series(0, 3) i,
  (SELECT (10000 * @SF@)::int AS sc) k;

INSERT INTO customer
SELECT g, 'Customer#' || lpad(g::text, 9, '0'), pg_temp.words(2), n,
  (n + 10) || '-' || (100 + floor(random() * 900)::int) || '-' || (100 + floor(random() * 900)::int)
    || '-' || (1000 + floor(random() * 9000)::int),
  round((-999.99 + random() * 10999.98)::numeric, 2),
  (ARRAY['AUTOMOBILE','BUILDING','FURNITURE','MACHINERY','HOUSEHOLD'])[1 + floor(random() * 5)::int],
  pg_temp.words(4)
FROM (SELECT g, floor(random() * 25)::int AS n FROM generate_series(1, (150000 * @SF@)::int) g OFFSET 0) s;

-- O_CUSTKEY: a customer whose key is not a multiple of 3 (a third never
-- orders, as in dbgen); O_ORDERDATE uniform in [1992-01-01, 1998-08-02];
-- O_ORDERSTATUS from the date (lines ship 1-121 days after the order, the
-- current date is 1995-06-17).
INSERT INTO orders
SELECT g, c + (c - 1) / 2,
  CASE WHEN d <= date '1995-06-17' - 121 THEN 'F' WHEN d >= date '1995-06-17' THEN 'O' ELSE 'P' END,
  round((1000 + random() * 400000)::numeric, 2), d,
  (ARRAY['1-URGENT','2-HIGH','3-MEDIUM','4-NOT SPECIFIED','5-LOW'])[1 + floor(random() * 5)::int],
  'Clerk#' || lpad((1 + floor(random() * 1000 * @SF@))::int::text, 9, '0'), 0, pg_temp.words(4)
FROM (SELECT g, 1 + floor(random() * ((150000 * @SF@)::int / 3 * 2))::int AS c,
             date '1992-01-01' + floor(random() * 2406)::int AS d
      FROM generate_series(1, (1500000 * @SF@)::int) g OFFSET 0) s;

-- 1 to 7 lines per order; the supplier one of the part's four; dates,
-- flags and price as the spec derives them.
INSERT INTO lineitem
SELECT o_orderkey, pk, ((pk + si * (sc / 4 + (pk - 1) / sc)) % sc) + 1, ln, q,
  q * (90000 + ((pk / 10) % 20001) + 100 * (pk % 1000)) / 100.0, disc, tax,
  CASE WHEN rd <= date '1995-06-17' THEN (CASE WHEN random() < 0.5 THEN 'R' ELSE 'A' END) ELSE 'N' END,
  CASE WHEN sd > date '1995-06-17' THEN 'O' ELSE 'F' END, sd, cd, rd,
  (ARRAY['DELIVER IN PERSON','COLLECT COD','NONE','TAKE BACK RETURN'])[1 + floor(random() * 4)::int],
  (ARRAY['REG AIR','AIR','RAIL','SHIP','TRUCK','MAIL','FOB'])[1 + floor(random() * 7)::int],
  substr(md5(random()::text), 1, 1 + floor(random() * 30)::int)  -- no query reads it
FROM (SELECT o_orderkey, ln, 1 + floor(random() * (200000 * @SF@))::int AS pk,
             floor(random() * 4)::int AS si, 1 + floor(random() * 50)::int AS q,
             floor(random() * 11)::int / 100.0 AS disc, floor(random() * 9)::int / 100.0 AS tax,
             o_orderdate + 1 + floor(random() * 121)::int AS sd,
             o_orderdate + 30 + floor(random() * 61)::int AS cd, o_orderdate
      FROM orders, generate_series(1, 1 + (abs(hashint4(o_orderkey)) % 7)) ln OFFSET 0) s1,
  LATERAL (SELECT s1.sd + 1 + floor(random() * 30)::int AS rd) s2,
  (SELECT (10000 * @SF@)::int AS sc) k;
