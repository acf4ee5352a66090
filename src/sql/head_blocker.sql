-- status's blocked sessions: of $waiters (the matching sessions status saw waiting on a lock), those someone blocks, and the head of the most of their chains, by name
-- Sent only when status saw a session waiting on a lock. The chains run through every backend waiting on
-- a lock (blocked.sql over pg_stat_activity, the filter's leftovers included); pg_blocking_pids is asked
-- of those only.
WITH RECURSIVE c AS (
    SELECT a.pid, a.wait_event_type FROM pg_stat_activity a
), /*BLOCKED*/top AS (
    SELECT h.head_blocker AS head, count(*)::int AS blocking
      FROM h
     WHERE h.pid = ANY ($waiters)
     GROUP BY 1
     ORDER BY count(*) DESC, 1
     LIMIT 1
)
SELECT (SELECT count(*) FROM lw WHERE lw.pid = ANY ($waiters) AND cardinality(lw.blocked_by) > 0)::int AS blocked_sessions,
       top.head AS head_blocker_pid,
       top.blocking AS head_blocker_blocking,
       a.state AS head_blocker_state,
       d.datname::text AS head_blocker_database,
       nullif(pg_get_userbyid(a.usesysid)::text, 'unknown (OID=' || a.usesysid || ')') AS head_blocker_user,
       coalesce(a.application_name, '') AS head_blocker_application,
       CASE WHEN a.pid IS NOT NULL THEN coalesce(host(a.client_addr), 'local') END AS head_blocker_client,
       date_part('epoch', statement_timestamp() - a.state_change) AS head_blocker_state_seconds,
       date_part('epoch', statement_timestamp() - a.xact_start) AS head_blocker_xact_seconds
  FROM (SELECT) AS one
  LEFT JOIN top ON true
  -- one backend's row: none for 0 (a prepared transaction) or when nothing is blocked (a NULL pid would
  -- read every backend)
  LEFT JOIN LATERAL pg_stat_get_activity(coalesce(top.head, 0)) a ON true
  LEFT JOIN pg_database d ON d.oid = a.datid
