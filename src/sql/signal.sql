-- signalling the previewed sessions (named by pid + backend_start, re-checked in this statement)
-- Each must still match, not be protected, and --keep must still leave its sessions.
-- $batch_pids pids, $batch_starts backend_starts and $batch_query_starts query_starts (for a cancel) of this batch, $attempt_denied try sessions the catalogs say this role may not
-- signal (one at a time, to learn the server's answer), $keep --keep (NULL: none), $not_staying the other targets of
-- this run that are or may be signalled (they do not count as staying for --keep).
-- $unchanged (kill --blockers): each must also still be in the state ($batch_states) and have the state_change
-- ($batch_state_changes) it was shown with (it ran nothing since, so it holds the same locks), and still be the head of a
-- chain of waiting sessions (protection.sql's HEADS slots, filled by the same --blockers).
WITH RECURSIVE c AS (
/*CLIENT_BACKENDS*/
), /*PROTECTION*/,
t AS (
    SELECT * FROM unnest($batch_pids::int[], $batch_starts::text[], $batch_query_starts::text[], $batch_states::text[],
                         $batch_state_changes::text[]) AS t(pid, backend_start, query_start, state, state_change)
), m AS (
    -- Every check is NULL-safe (coalesce to false): a session this role cannot see (NULL state and
    -- backend_start) never passes for one it was shown.
    SELECT t.pid,
           p.pid IS NOT NULL AS present,
           coalesce(p.visible
             AND to_char(p.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = t.backend_start, false) AS same,
           coalesce(p.visible AND p.matches, false) AS matches,
           coalesce(p.visible AND p.is_head, false) AS is_head,
           coalesce(p.visible AND p.state = t.state
             AND to_char(p.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = t.state_change, false) AS unchanged,
           p.protection,
           coalesce(p.allowed, false) AS allowed,
           p.datid, p.usesysid, coalesce(p.application_name, '') AS application,
           p.state, p.state_change, p.query_start,
           -- a cancel stops the query that was shown, not the next one the session runs
           coalesce(to_char(p.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = t.query_start, false)
               AS same_query
      FROM t
      LEFT JOIN p ON p.pid = t.pid
), s AS (
    -- --keep: sessions of each group that stay whatever this run does
    SELECT p.datid, p.usesysid, coalesce(p.application_name, '') AS application, count(*)::int AS staying
      FROM p
     WHERE $keep::int IS NOT NULL AND p.visible AND p.matches AND p.protection IS NULL
       AND p.pid <> ALL ($batch_pids) AND p.pid <> ALL ($not_staying)
     GROUP BY 1, 2, 3
), q AS (
    SELECT m.*,
           m.present AND m.same AND m.matches AND m.protection IS NULL AS qualifies,
           coalesce(s.staying, 0) AS staying,
           row_number() OVER (PARTITION BY m.present AND m.same AND m.matches AND m.protection IS NULL,
                                           m.datid, m.usesysid, m.application
                              ORDER BY m.state_change DESC NULLS LAST, m.pid) AS keep_rank
      FROM m
      LEFT JOIN s ON s.datid IS NOT DISTINCT FROM m.datid AND s.usesysid IS NOT DISTINCT FROM m.usesysid
                 AND s.application = m.application
)
SELECT q.pid, q.state, q.protection,
       date_part('epoch', now() - q.state_change) AS state_seconds,
       to_char(q.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS query_start,
       CASE
           WHEN NOT q.present THEN 'gone'
           WHEN NOT q.same THEN 'replaced'
           WHEN $unchanged AND NOT q.unchanged THEN 'ran_since'
           WHEN NOT q.is_head THEN 'not_blocking'
           WHEN NOT q.matches THEN 'changed'
           WHEN $cancel AND NOT q.same_query THEN 'other_query'
           WHEN q.protection IS NOT NULL THEN 'protected'
           WHEN $keep::int IS NOT NULL AND q.keep_rank <= $keep - q.staying THEN 'kept'
           WHEN NOT q.allowed AND NOT $attempt_denied THEN 'predicted_denied'
           WHEN $cancel THEN CASE WHEN pg_cancel_backend(q.pid) THEN 'signalled' ELSE 'not_signalled' END
           ELSE CASE WHEN pg_terminate_backend(q.pid) THEN 'signalled' ELSE 'not_signalled' END
       END AS outcome,
       to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
  FROM q
