-- blocked_by over alias m (a row with pid and wait_event_type): who holds the lock the session waits for
       -- pg_blocking_pids takes every lock-manager partition lock, so it is reached only for a session
       -- waiting on a lock (a CASE, never for the others); distinct and sorted, as a parallel query
       -- repeats its leader's pid; 0 is a prepared transaction. Outside any CTE: the function is volatile,
       -- and a CTE holding it would be materialized instead of folded into the statement.
       CASE WHEN m.wait_event_type = 'Lock'
            THEN ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids(m.pid)) AS b ORDER BY b)
       END AS blocked_by
