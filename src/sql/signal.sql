-- signalling the previewed sessions (named by pid + backend_start, re-checked in this statement)
-- Each must still match, not be protected, and --keep must still leave its sessions.
-- $23 pids, $24 backend_starts and $28 query_starts (for a cancel) of this batch, $25 try sessions the catalogs say this role may not
-- signal (one at a time, to learn the server's answer), $26 --keep (NULL: none), $27 the other targets of
-- this run that are or may be signalled (they do not count as staying for --keep).
WITH c AS (
/*CLIENT_BACKENDS*/
), /*PROTECTION*/,
t AS (
    SELECT * FROM unnest($23::int[], $24::text[], $28::text[]) AS t(pid, backend_start, query_start)
), m AS (
    -- Every check is NULL-safe (coalesce to false): a session this role cannot see (NULL state and
    -- backend_start) never passes for one it was shown.
    SELECT t.pid,
           p.pid IS NOT NULL AS present,
           coalesce(p.visible
             AND to_char(p.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = t.backend_start, false) AS same,
           coalesce(p.visible AND p.matches, false) AS matches,
           p.protection,
           coalesce(p.pid IS NOT NULL AND (
               (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR (NOT p.superuser AND (p.own_role OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE')))
           ), false) AS allowed,
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
     WHERE $26::int IS NOT NULL AND p.visible AND p.matches AND p.protection IS NULL
       AND p.pid <> ALL ($23) AND p.pid <> ALL ($27)
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
           WHEN NOT q.matches THEN 'changed'
           WHEN $22 AND NOT q.same_query THEN 'other_query'
           WHEN q.protection IS NOT NULL THEN 'protected'
           WHEN $26::int IS NOT NULL AND q.keep_rank <= $26 - q.staying THEN 'kept'
           WHEN NOT q.allowed AND NOT $25 THEN 'predicted_denied'
           WHEN $22 THEN CASE WHEN pg_cancel_backend(q.pid) THEN 'signalled' ELSE 'not_signalled' END
           ELSE CASE WHEN pg_terminate_backend(q.pid) THEN 'signalled' ELSE 'not_signalled' END
       END AS outcome,
       to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
  FROM q
