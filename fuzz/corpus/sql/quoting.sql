SELECT $$a;b$$, E'\x41', U&'\0041' FROM t WHERE a = ANY($1) AND b @> '{"k":1}';
/* nested /* comment */ */ SELECT (1;
