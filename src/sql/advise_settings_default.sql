-- timeouts: the server-wide value, for a role that may not read pg_file_settings
-- With advise's second read of pg_stat_database's session counters (session_counters.sql, an InitPlan run
-- once, its text on every row), for its rates: no round trip of its own.
-- Where this session's own database or role settings hide the server-wide value, the built-in default stands
-- in for it (the configuration files cannot be read); the report names that.
SELECT s.name,
       s.unit,
       CASE WHEN s.source IN ('database', 'user', 'database user', 'session', 'client')
            THEN s.boot_val
            ELSE s.setting END AS server_value,
       s.source IN ('database', 'user', 'database user', 'session', 'client') AS guessed,
       /*SESSION_COUNTERS_JSON*/ AS session_counters
  FROM pg_settings s
 WHERE s.name = ANY ($1)
