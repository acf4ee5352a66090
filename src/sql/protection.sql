-- why a client backend (alias c) is left alone by kill, decided by the server for the plan and again in the signalling statement: CTEs adv, tmp and p (c plus matches, who_matches, protection, allowed)
-- $include_superusers include superusers, $protect_app --protect-app and $protect_user --protect-user (LIKE patterns),
-- $pooler_pids PgBouncer's server connections and $include_pooler include them, $include_listeners include LISTEN listeners, $include_lock_holders include
-- advisory lock holders, $include_temp_holders include temporary table holders, $cancel cancelling (not terminating),
-- $provider_roles a managed platform's own admin roles (rdsadmin, …; empty when none) and $include_provider include them.
-- kill --blockers fills the HEADS slots (blocked.sql and kill_heads.sql before adv, a join to heads): only the heads of
-- chains of sessions waiting on a lock match, each with the pids it blocks; otherwise every session may, and blocking is NULL.
/*HEADS*/adv AS (
    -- holders of advisory locks (job queues, migration runners, leader election); a session-level lock is
    -- released when the session ends, so terminating the holder hands the lock to someone else
    SELECT DISTINCT l.pid
      FROM pg_locks l
     WHERE NOT $include_lock_holders AND l.locktype = 'advisory' AND l.granted
), tmp AS (
/*TEMP_HOLDERS*/
), p AS (
    SELECT c.*,
           coalesce((
/*FILTER*/
           ), false)/*HEADS_MATCH*/ AS matches,
           /*HEADS_IS_HEAD*/ AS is_head,
           /*HEADS_BLOCKING*/ AS blocking,
           coalesce((
/*FILTER_WHO*/
           ), false) AS who_matches,
           CASE
               WHEN NOT c.visible THEN NULL
               -- a cancel only stops a running query: anything else is left as it is
               WHEN $cancel AND c.state IS DISTINCT FROM 'active' AND c.state IS DISTINCT FROM 'fastpath function call'
                   THEN 'not_running'
               WHEN c.superuser AND NOT $include_superusers THEN 'superuser'
               WHEN c.usename::text = ANY ($provider_roles) AND NOT $include_provider THEN 'provider'
               WHEN coalesce(c.application_name, '') LIKE ANY ($protect_app) THEN 'protect_app'
               WHEN coalesce(c.usename::text, '') LIKE ANY ($protect_user) THEN 'protect_user'
               WHEN c.pid = ANY ($pooler_pids) AND NOT $include_pooler THEN 'pooler'
               -- PostgreSQL shows other sessions' channels nowhere: a listener is known by its last statement
               -- (LISTEN at the start of a statement, after any comments)
               WHEN NOT $include_listeners AND c.query
                   ~* E'(^|;)\\s*((/\\*([^*]|\\*+[^*/])*\\*+/|--[^\\n]*(\\n|$))\\s*)*listen\\M'
                   THEN 'listener'
               WHEN adv.pid IS NOT NULL THEN 'advisory_lock'
               WHEN tmp.pid IS NOT NULL THEN 'temp_tables'
           END AS protection,
           -- whether this role may signal it: superusers any; others not superusers' sessions, and only
           -- their own roles' unless they have pg_signal_backend
           coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR (NOT c.superuser AND (c.own_role OR (SELECT pg_has_role(current_user, 'pg_signal_backend', 'USAGE')))),
               false) AS allowed
      FROM c
      LEFT JOIN adv ON adv.pid = c.pid
      LEFT JOIN tmp ON tmp.pid = c.pid/*HEADS_JOIN*/
)
