-- session counters: pg_stat_database's session counters per database (PostgreSQL 14+), as JSON for status.sql's first row
-- Only client backends are counted by the server (MyBackendType == B_BACKEND in pgstat_database.c): WAL
-- senders, pgconn's emergency route included, background workers and autovacuum are not. `sessions`
-- rises when a session starts; `sessions_abandoned` when the client's socket closed without a Terminate
-- message (EOF), `sessions_fatal` when a FATAL error ended it (idle_session_timeout,
-- idle_in_transaction_session_timeout, ...), `sessions_killed` when SIGTERM ended it
-- (pg_terminate_backend). The times are milliseconds in the view, seconds here. The row of shared
-- objects (datid 0, no datname) counts no sessions and is left out.
(SELECT coalesce(json_agg(json_build_object(
            'database', s.datname,
            'sessions', s.sessions,
            'abandoned', s.sessions_abandoned,
            'fatal', s.sessions_fatal,
            'killed', s.sessions_killed,
            'session_time_seconds', s.session_time / 1000,
            'active_time_seconds', s.active_time / 1000,
            'idle_in_transaction_time_seconds', s.idle_in_transaction_time / 1000,
            'stats_reset', s.stats_reset) ORDER BY s.datname), '[]')::text
   FROM pg_stat_database s
  WHERE s.datname IS NOT NULL)
