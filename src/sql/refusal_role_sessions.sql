-- refusal_role_sessions: a role refused at its CONNECTION LIMIT, seen as the --fallback-user role: its client backends by application and state, the largest first, so that the operator sees what to free
-- $role the refused role. The client backends are the server's count against the limit (WAL senders are
-- neither counted nor checked). A fallback role without pg_read_all_stats sees the state of other roles'
-- sessions as NULL: they are counted, under no state.
SELECT coalesce(a.application_name, '') AS application,
       a.state,
       count(*)::int AS sessions,
       max(date_part('epoch', statement_timestamp() - a.state_change)) AS oldest_state_seconds
  FROM pg_stat_activity a
 WHERE a.usename = $role
   AND (
/*CLIENT_BACKEND_RULE*/
   )
 GROUP BY 1, 2
 ORDER BY 3 DESC, 1, 2
