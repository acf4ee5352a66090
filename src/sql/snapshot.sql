-- session snapshot: client backends of pg_stat_activity (ages computed by the server), filtered
WITH c AS (
/*CLIENT_BACKENDS*/
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
       c.superuser,
       c.own_role
  FROM total
  LEFT JOIN c ON
/*FILTER*/
 ORDER BY c.state_change NULLS LAST, c.pid
