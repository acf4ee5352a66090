-- server facts: version, connection limits, pgconn's own backend and privileges, and the markers of a
-- managed platform (report::platform): which provider settings exist (current_setting(name, true) is
-- NULL for a setting no one defined), whether Aurora's aurora_version() exists, which provider roles
-- exist (to_regrole per name: a lookup in the role cache each, no scan of pg_authid or the pg_roles
-- view). Evaluated once per statement, whatever the number of sessions.
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
           AND has_function_privilege('pg_show_all_file_settings()', 'EXECUTE') AS read_file_settings,
       current_setting('rds.rds_superuser_reserved_connections', true) AS rds_superuser_reserved_connections,
       ARRAY(SELECT s FROM unnest(ARRAY['rds.rds_superuser_reserved_connections', 'rds.extensions',
                                        'cloudsql.enable_pgaudit', 'cloudsql.iam_authentication',
                                        'azure.extensions', 'neon.timeline_id', 'neon.tenant_id']) s
              WHERE current_setting(s, true) IS NOT NULL) AS provider_settings,
       to_regproc('aurora_version') IS NOT NULL AS aurora_version,
       ARRAY(SELECT r FROM unnest(ARRAY['rds_superuser', 'rds_reserved', 'rdsadmin', 'cloudsqlsuperuser',
                                        'azure_pg_admin', 'supabase_admin', 'neon_superuser']) r
              WHERE to_regrole(r) IS NOT NULL) AS provider_roles
