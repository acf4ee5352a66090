-- sessions --blocked: the client backends (alias c) waiting on a lock, what blocks them and the head of each chain: CTEs lw, r, h (WITH RECURSIVE)
-- lw: every waiter's blockers, asked once per statement (pg_blocking_pids takes every lock-manager
-- partition lock: only sessions waiting on a lock are asked), distinct (a parallel query repeats its
-- leader's pid); 0 is a prepared transaction.
lw AS MATERIALIZED (
    SELECT c.pid, ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids(c.pid)) AS b ORDER BY b) AS blocked_by
      FROM c
     WHERE c.wait_event_type = 'Lock'
), r (waiter, pid, depth, path) AS (
    -- every blocker up each waiter's chain; a pid already on the path is not followed again (a cycle is
    -- a deadlock the server is about to break: it has no head)
    SELECT lw.pid, b, 1, ARRAY[lw.pid]
      FROM lw, unnest(lw.blocked_by) AS b
    UNION ALL
    SELECT r.waiter, b, r.depth + 1, r.path || r.pid
      FROM r
      JOIN lw ON lw.pid = r.pid
     CROSS JOIN unnest(lw.blocked_by) AS b
     WHERE r.pid <> ALL (r.path)
), h AS (
    -- the head: a blocker that waits for nobody itself (a prepared transaction, 0, included); the farthest
    -- up the chain, then the lowest pid
    SELECT DISTINCT ON (r.waiter) r.waiter AS pid, r.pid AS head_blocker
      FROM r
     WHERE NOT EXISTS (SELECT FROM lw WHERE lw.pid = r.pid)
     ORDER BY r.waiter, r.depth DESC, r.pid
),
