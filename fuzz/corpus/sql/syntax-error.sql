-- Unparsable statements are reported where they fail; the rest is still checked.
SELECT 1;

CREATE TABL users (id int);

SELECT id
  FROM orders
 WHERE;

DELETE FROM sessions;
