-- client sessions in a database / of a role that connected before now (they keep their old settings)
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT count(*) FILTER (WHERE c.backend_start < clock_timestamp()) AS before,
       count(*) FILTER (WHERE NOT c.visible) AS not_visible
  FROM c
 WHERE c.pid <> pg_backend_pid()
   AND ($database::text IS NULL OR c.datname = $database::text)
   AND ($role::text IS NULL OR c.usename = $role::text)
