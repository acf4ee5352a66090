-- terminate or cancel exactly the previewed sessions (pid + backend_start), re-checking in this statement that each still matches what selected it
WITH c AS (
/*CLIENT_BACKENDS*/
), t AS (
    SELECT * FROM unnest($14::int[], $15::text[]) AS t(pid, backend_start)
), m AS (
    -- Every check is NULL-safe (coalesce to false): a session this role cannot see (NULL state and
    -- backend_start) never passes for one it was shown.
    SELECT t.pid,
           c.pid IS NOT NULL AS present,
           coalesce(c.pid IS NOT NULL AND c.visible
             AND to_char(c.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = t.backend_start, false) AS same,
           coalesce(c.pid IS NOT NULL AND c.visible AND (
/*FILTER*/
           ), false) AS matches,
           coalesce(c.pid IS NOT NULL AND (
               (NOT c.superuser OR $17)
               AND NOT coalesce(c.application_name, '') LIKE ANY ($18)
               AND NOT coalesce(c.usename::text, '') LIKE ANY ($19)
           ), false) AS unprotected,
           coalesce(c.pid IS NOT NULL AND (
               (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR (NOT c.superuser AND (c.own_role OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE')))
           ), false) AS allowed,
           c.state,
           extract(epoch FROM now() - c.state_change)::float8 AS state_seconds
      FROM t
      LEFT JOIN c ON c.pid = t.pid
)
SELECT m.pid, m.state, m.state_seconds,
       CASE
           WHEN NOT m.present THEN 'gone'
           WHEN NOT m.same THEN 'replaced'
           WHEN NOT m.matches THEN 'changed'
           WHEN NOT m.unprotected THEN 'protected'
           WHEN NOT m.allowed AND NOT $20 THEN 'predicted_denied'
           WHEN $16 THEN CASE WHEN pg_cancel_backend(m.pid) THEN 'signalled' ELSE 'not_signalled' END
           ELSE CASE WHEN pg_terminate_backend(m.pid) THEN 'signalled' ELSE 'not_signalled' END
       END AS outcome,
       to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
  FROM m
