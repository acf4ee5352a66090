-- settings stored per database and role (ALTER DATABASE / ALTER ROLE ... SET), one row per setting
SELECT d.datname::text AS database,
       r.rolname::text AS role,
       lower(split_part(c, '=', 1)) AS name,
       substr(c, strpos(c, '=') + 1) AS value
FROM pg_db_role_setting s
LEFT JOIN pg_database d ON d.oid = s.setdatabase
LEFT JOIN pg_roles r ON r.oid = s.setrole
CROSS JOIN LATERAL unnest(s.setconfig) AS c
WHERE (s.setdatabase = 0 OR d.oid IS NOT NULL)
  AND (s.setrole = 0 OR r.oid IS NOT NULL)
ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3
