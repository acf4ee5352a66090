-- client sessions per state (pgconn's own left out), for before/after counts
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT c.state,
       count(*) AS sessions
  FROM c
 WHERE c.pid <> pg_backend_pid()
 GROUP BY 1
 ORDER BY 1
