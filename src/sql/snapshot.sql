-- session snapshot: client backends of pg_stat_activity (ages computed by the server), filtered
WITH c AS (
    SELECT a.*,
           a.backend_type IS NOT NULL AS visible,
           coalesce(r.rolsuper, false) AS superuser
      FROM pg_stat_activity a
      LEFT JOIN pg_roles r ON r.oid = a.usesysid
     WHERE a.backend_type = 'client backend'
        -- rows of other roles without pg_read_all_stats: backend_type is hidden; count those with a role
        OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL)
), total AS (
    SELECT count(*)::int AS used FROM c
)
SELECT total.used,
       c.pid,
       c.datname::text AS database,
       c.usename::text AS "user",
       coalesce(c.application_name, '') AS application,
       CASE WHEN c.visible THEN coalesce(host(c.client_addr), 'local') END AS client,
       c.client_port,
       c.state,
       c.visible,
       to_char(c.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS backend_start,
       extract(epoch FROM now() - c.backend_start)::float8 AS connected_seconds,
       extract(epoch FROM now() - c.state_change)::float8 AS state_seconds,
       extract(epoch FROM now() - c.xact_start)::float8 AS xact_seconds,
       extract(epoch FROM now() - c.query_start)::float8 AS query_seconds,
       c.visible AND c.query_start IS NULL AS never_queried,
       c.wait_event_type,
       c.wait_event,
       age(c.backend_xmin)::int AS xmin_age,
       CASE WHEN $13 THEN c.query END AS query,
       c.superuser
  FROM total
  LEFT JOIN c ON c.pid <> pg_backend_pid()
    AND (cardinality($1::text[]) = 0 OR coalesce(c.datname::text, '') LIKE ANY ($1))
    AND (cardinality($2::text[]) = 0 OR coalesce(c.usename::text, '') LIKE ANY ($2))
    AND (cardinality($3::text[]) = 0 OR coalesce(c.application_name, '') LIKE ANY ($3))
    AND (cardinality($4::text[]) = 0 OR coalesce(host(c.client_addr), CASE WHEN c.visible THEN 'local' END, '') LIKE ANY ($4))
    AND NOT coalesce(c.datname::text, '') LIKE ANY ($5)
    AND NOT coalesce(c.usename::text, '') LIKE ANY ($6)
    AND NOT coalesce(c.application_name, '') LIKE ANY ($7)
    AND NOT coalesce(host(c.client_addr), CASE WHEN c.visible THEN 'local' END, '') LIKE ANY ($8)
    AND (cardinality($9::text[]) = 0 OR c.state = ANY ($9))
    AND ($10::float8 IS NULL OR c.state_change < now() - make_interval(secs => $10))
    AND ($11::float8 IS NULL OR (c.state = 'active' AND c.query_start < now() - make_interval(secs => $11)))
    AND (cardinality($12::int[]) = 0 OR c.pid = ANY ($12))
 ORDER BY c.state_change NULLS LAST, c.pid
