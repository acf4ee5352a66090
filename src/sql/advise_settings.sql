-- timeouts: the server-wide value (not this session's database or role override) and unit
SELECT s.name,
       s.unit,
       CASE WHEN s.source IN ('database', 'user', 'database user', 'session', 'client')
            THEN CASE WHEN has_function_privilege('pg_show_all_file_settings()', 'EXECUTE')
                      THEN coalesce((SELECT f.setting FROM pg_file_settings f
                                      WHERE f.name = s.name AND f.applied AND f.error IS NULL
                                      ORDER BY f.seqno DESC LIMIT 1), s.boot_val)
                      ELSE s.boot_val END
            ELSE s.setting END AS server_value
  FROM pg_settings s
 WHERE s.name = ANY ($1)
