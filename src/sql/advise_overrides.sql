-- timeouts set per database, per role and per role in a database (pg_db_role_setting)
SELECT d.datname::text AS database,
       r.rolname::text AS role,
       split_part(c, '=', 1) AS name,
       substr(c, strpos(c, '=') + 1) AS value
  FROM pg_db_role_setting s
  LEFT JOIN pg_database d ON d.oid = s.setdatabase
  LEFT JOIN pg_roles r ON r.oid = s.setrole
 CROSS JOIN LATERAL unnest(s.setconfig) AS c
 WHERE split_part(c, '=', 1) = ANY ($1)
