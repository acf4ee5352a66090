-- status: client sessions counted per database, user, application, state (and client when grouped by it), with the idle-age percentiles
-- f holds one narrow row per client backend, with whether it matches the filter: `used` counts them all.
WITH c AS (
/*CLIENT_BACKENDS*/
), f AS (
    SELECT c.datname::text AS database,
           c.usename::text AS "user",
           coalesce(c.application_name, '') AS application,
           CASE WHEN $13 AND c.visible THEN coalesce(host(c.client_addr), 'local') END AS client,
           c.state,
           c.pid = ANY ($14) AS via_pgbouncer,
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
    SELECT f.database, f."user", f.application, f.client, f.state, f.via_pgbouncer,
           count(*)::int AS sessions,
           count(f.state_seconds)::int AS with_age,
           count(*) FILTER (WHERE f.state_seconds > $15)::int AS older_than_leak_age,
           count(*) FILTER (WHERE f.state_seconds > $16)::int AS older_than_idle_in_transaction_age,
           max(f.state_seconds) AS oldest_state_seconds,
           max(f.xact_seconds) AS oldest_xact_seconds
      FROM f
     WHERE f.matches
     GROUP BY f.database, f."user", f.application, f.client, f.state, f.via_pgbouncer
)
SELECT total.used,
       idle.p[1] AS idle_median_seconds,
       idle.p[2] AS idle_p95_seconds,
       g.*
  FROM total
 CROSS JOIN idle
  LEFT JOIN g ON true
