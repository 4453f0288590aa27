-- Columns count characters, not bytes: "é" and "日本" are one column each.
SELECT 'café', '日本' FROM users WHERE name LIKE '%é';
