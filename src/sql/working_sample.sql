-- one sample of advise --samples: per application, the client sessions that do work now (pgconn's own and $pooler_pids, PgBouncer's server connections, left out; the shared filter applied), $short_idle_in_transaction seconds: how long idle in transaction still counts as work
-- Working: active, or idle in transaction since less than $short_idle_in_transaction seconds (an
-- application between two statements of one transaction holds its connection; one idle in transaction for
-- longer is a leak, not demand). A session waiting on a heavyweight lock (wait_event_type 'Lock') is not
-- working: it waits for another session, and a larger pool would only add waiters. It is counted apart.
-- One row per application with a visible session; nothing per session leaves the server.
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT coalesce(c.application_name, '') AS application,
       count(*) AS held,
       count(*) FILTER (
           WHERE c.wait_event_type IS DISTINCT FROM 'Lock'
             AND (c.state = 'active'
                  OR (c.state IN ('idle in transaction', 'idle in transaction (aborted)')
                      AND c.state_change > now() - make_interval(secs => $short_idle_in_transaction::float8)))
       ) AS working,
       count(*) FILTER (WHERE c.wait_event_type = 'Lock') AS lock_waiters
  FROM c
 WHERE c.visible
   AND NOT c.pid = ANY ($pooler_pids::int[])
   AND
/*FILTER*/
 GROUP BY 1
 ORDER BY 1
