-- server facts: version, connection limits, pgconn's own backend and privileges
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
       current_setting('reserved_connections', true)::int AS reserved_connections,
       pg_backend_pid() AS backend_pid,
       current_user::text AS current_user,
       current_database()::text AS database,
       current_setting('is_superuser')::bool AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal_backend,
       has_table_privilege('pg_file_settings', 'SELECT')
           AND has_function_privilege('pg_show_all_file_settings()', 'EXECUTE') AS read_file_settings
