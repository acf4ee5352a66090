-- the columns of one session over alias m, a row of client_backends.sql (ages with date_part, which is float8 already: extract() is numeric from PostgreSQL 14 on, and slower; backend_start is formatted by the client)
       m.pid,
       m.datname::text AS database,
       m.usename::text AS "user",
       coalesce(m.application_name, '') AS application,
       CASE WHEN m.visible THEN coalesce(host(m.client_addr), 'local') END AS client,
       m.client_port,
       m.state,
       m.visible,
       m.backend_start,
       m.query_start,
       date_part('epoch', now() - m.backend_start) AS connected_seconds,
       date_part('epoch', now() - m.state_change) AS state_seconds,
       date_part('epoch', now() - m.xact_start) AS xact_seconds,
       date_part('epoch', now() - m.query_start) AS query_seconds,
       m.visible AND m.query_start IS NULL AS never_queried,
       m.wait_event_type,
       m.wait_event,
       -- who holds the lock this session waits for: pg_blocking_pids takes every lock-manager partition
       -- lock, so it is reached only for a session waiting on a lock (a CASE, never for the others);
       -- distinct and sorted, as a parallel query repeats its leader's pid; 0 is a prepared transaction
       CASE WHEN m.wait_event_type = 'Lock'
            THEN ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids(m.pid)) AS b ORDER BY b)
       END AS blocked_by,
       age(m.backend_xmin)::int AS xmin_age,
       CASE WHEN $with_query THEN m.query END AS query,
       m.superuser,
       m.own_role
