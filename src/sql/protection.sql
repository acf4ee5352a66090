-- why a client backend (alias c) is left alone by kill, decided by the server for the plan and again in the signalling statement: CTEs adv, tmp and p (c plus matches, who_matches, protection)
-- $13 with the query text, $14 include superusers, $15 --protect-app and $16 --protect-user (LIKE patterns),
-- $17 PgBouncer's server connections and $18 include them, $19 include LISTEN listeners, $20 include
-- advisory lock holders, $21 include temporary table holders, $22 cancelling (not terminating).
adv AS (
    -- holders of advisory locks (job queues, migration runners, leader election); a session-level lock is
    -- released when the session ends, so terminating the holder hands the lock to someone else
    SELECT DISTINCT l.pid
      FROM pg_locks l
     WHERE NOT $20 AND l.locktype = 'advisory' AND l.granted
), tmp AS (
/*TEMP_HOLDERS*/
), p AS (
    SELECT c.*,
           coalesce((
/*FILTER*/
           ), false) AS matches,
           coalesce((
/*FILTER_WHO*/
           ), false) AS who_matches,
           CASE
               WHEN NOT c.visible THEN NULL
               -- a cancel only stops a running query: anything else is left as it is
               WHEN $22 AND c.state IS DISTINCT FROM 'active' AND c.state IS DISTINCT FROM 'fastpath function call'
                   THEN 'not_running'
               WHEN c.superuser AND NOT $14 THEN 'superuser'
               WHEN coalesce(c.application_name, '') LIKE ANY ($15) THEN 'protect_app'
               WHEN coalesce(c.usename::text, '') LIKE ANY ($16) THEN 'protect_user'
               WHEN c.pid = ANY ($17) AND NOT $18 THEN 'pooler'
               -- PostgreSQL shows other sessions' channels nowhere: a listener is known by its last statement
               -- (LISTEN at the start of a statement, after any comments)
               WHEN NOT $19 AND c.query
                   ~* E'(^|;)\\s*((/\\*([^*]|\\*+[^*/])*\\*+/|--[^\\n]*(\\n|$))\\s*)*listen\\M'
                   THEN 'listener'
               WHEN adv.pid IS NOT NULL THEN 'advisory_lock'
               WHEN tmp.pid IS NOT NULL THEN 'temp_tables'
           END AS protection
      FROM c
      LEFT JOIN adv ON adv.pid = c.pid
      LEFT JOIN tmp ON tmp.pid = c.pid
)
