-- timeouts: the server-wide value (not this session's database or role override) and unit
-- With advise's second read of pg_stat_database's session counters (session_counters.sql, an InitPlan run
-- once, its text on every row), for its rates: no round trip of its own.
-- For a role that may read pg_file_settings; advise_settings_default.sql is the variant for others (a view
-- named anywhere in a statement needs the privilege, even in a branch that never runs).
SELECT s.name,
       s.unit,
       CASE WHEN s.source IN ('database', 'user', 'database user', 'session', 'client')
            THEN coalesce((SELECT f.setting FROM pg_file_settings f
                            WHERE f.name = s.name AND f.applied AND f.error IS NULL
                            ORDER BY f.seqno DESC LIMIT 1), s.boot_val)
            ELSE s.setting END AS server_value,
       false AS guessed,
       /*SESSION_COUNTERS_JSON*/ AS session_counters
  FROM pg_settings s
 WHERE s.name = ANY ($1)
