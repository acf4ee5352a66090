-- watching the signalled sessions end
-- Which are still there, and in what state (a pid whose backend_start differs is another session).
SELECT a.pid,
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS backend_start,
       a.state,
       to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS query_start
  FROM pg_stat_activity a
 WHERE a.pid = ANY ($pids)
