-- client sessions per state (pgconn's own and the given pids left out), for before/after counts
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT c.state,
       count(*) AS sessions
  FROM c
 WHERE c.pid <> pg_backend_pid() AND c.pid <> ALL ($exclude_pids)
 GROUP BY 1
 ORDER BY 1
