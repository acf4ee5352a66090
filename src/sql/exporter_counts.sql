-- pg_stat_activity_count and pg_stat_activity_max_tx_duration as postgres_exporter (0.17+) counts them, from the same snapshot as status's counts: CTEs put before status.sql's own
-- Every row of pg_stat_activity, once (status's client backends are read from it too): its datname and
-- state decide, not whether it holds a slot. So autovacuum workers, parallel workers and logical WAL
-- senders count (they have both), the server's own processes, physical WAL senders and PostgreSQL 18's
-- `starting` do not, and neither do rows this role cannot see (no state). pgconn's own backend is left out.
-- Every database × the six states has a row: a zero row (the other labels NULL) when nothing is in it.
    every AS MATERIALIZED (
        SELECT * FROM pg_stat_activity
    ), exporter_counts AS (
        SELECT d.datname::text AS datname, s.state, x.usename, x.application_name, x.backend_type,
               x.wait_event_type, x.wait_event,
               coalesce(x.count, 0) AS count,
               coalesce(x.max_tx_duration, 0) AS max_tx_duration
          FROM (VALUES ('active'), ('idle'), ('idle in transaction'), ('idle in transaction (aborted)'),
                       ('fastpath function call'), ('disabled')) AS s(state)
         CROSS JOIN pg_database d
          LEFT JOIN (
            SELECT e.datname, e.state, e.usename::text AS usename, e.application_name, e.backend_type,
                   e.wait_event_type, e.wait_event,
                   count(*)::int AS count,
                   max(date_part('epoch', statement_timestamp() - e.xact_start)) AS max_tx_duration
              FROM every e
             WHERE e.pid <> pg_backend_pid()
             GROUP BY 1, 2, 3, 4, 5, 6, 7
          ) x ON x.state = s.state AND x.datname = d.datname
    ),
