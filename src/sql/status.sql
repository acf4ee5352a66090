-- status: client sessions counted per database, user, application, state (and client when grouped by it), with the idle-age percentiles
-- $leak_age leak age, $idle_in_transaction_age idle-in-transaction age, $extra_age a caller's own age (check's --idle-age; NULL counts nothing)
-- The server's facts come along (as JSON, on one row): no statement of their own.
-- f holds one narrow row per client backend, with whether it matches the filter: `used` counts them all.
-- Sessions are grouped by database and role oid and named afterwards, so that (unless a filter needs the
-- names) the server joins a few groups to pg_database and pg_roles instead of every session.
WITH c AS (
/*CLIENT_BACKENDS*/
), facts AS (
/*FACTS*/
), f AS (
    SELECT c.datid,
           c.usesysid,
           coalesce(c.application_name, '') AS application,
           CASE WHEN $by_client AND c.visible THEN coalesce(host(c.client_addr), 'local') END AS client,
           c.state,
           c.pid = ANY ($pooler_pids) AS via_pgbouncer,
           date_part('epoch', now() - c.state_change) AS state_seconds,
           date_part('epoch', now() - c.xact_start) AS xact_seconds,
           coalesce((
/*FILTER*/
           ), false) AS matches
      FROM c
), total AS (
    SELECT count(*)::int AS used FROM f
), idle AS (
    SELECT percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY f.state_seconds) AS p
      FROM f
     WHERE f.matches AND f.state = 'idle' AND f.state_seconds IS NOT NULL
), g AS (
    SELECT f.datid, f.usesysid, f.application, f.client, f.state, f.via_pgbouncer,
           count(*)::int AS sessions,
           count(f.state_seconds)::int AS with_age,
           count(*) FILTER (WHERE f.state_seconds > $leak_age)::int AS older_than_leak_age,
           count(*) FILTER (WHERE f.state_seconds > $idle_in_transaction_age)::int AS older_than_idle_in_transaction_age,
           count(*) FILTER (WHERE f.state_seconds > $extra_age)::int AS older_than_extra_age,
           max(f.state_seconds) AS oldest_state_seconds,
           max(f.xact_seconds) AS oldest_xact_seconds
      FROM f
     WHERE f.matches
     GROUP BY f.datid, f.usesysid, f.application, f.client, f.state, f.via_pgbouncer
)
SELECT CASE WHEN row_number() OVER () = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       total.used,
       idle.p[1] AS idle_median_seconds,
       idle.p[2] AS idle_p95_seconds,
       d.datname::text AS database,
       r.rolname::text AS "user",
       g.application, g.client, g.state, g.via_pgbouncer, g.sessions, g.with_age, g.older_than_leak_age,
       g.older_than_idle_in_transaction_age, g.older_than_extra_age, g.oldest_state_seconds, g.oldest_xact_seconds
  FROM total
 CROSS JOIN idle
  LEFT JOIN g ON true
  LEFT JOIN pg_database d ON d.oid = g.datid
  LEFT JOIN pg_roles r ON r.oid = g.usesysid
