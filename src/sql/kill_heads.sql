-- kill --blockers: the head of every chain of client sessions waiting on a lock, over blocked.sql's CTEs lw and r: CTE heads (pid, blocking)
heads AS (
    -- a blocker that waits for nobody itself, with every session waiting behind it (directly or further
    -- down the chain), each once; 0, a prepared transaction, is no session (the plan lists it apart); a
    -- cycle (a deadlock the server is about to break) has no head
    SELECT r.pid, array_agg(DISTINCT r.waiter ORDER BY r.waiter) AS blocking
      FROM r
     WHERE r.pid <> 0 AND NOT EXISTS (SELECT FROM lw WHERE lw.pid = r.pid)
     GROUP BY r.pid
),
