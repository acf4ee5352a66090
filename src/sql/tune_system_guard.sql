-- before ALTER SYSTEM: allow_alter_system (17+), signs of a managed service, data directory, last config load
SELECT current_setting('allow_alter_system', true) AS allow_alter_system,
       (SELECT string_agg(DISTINCT split_part(name, '.', 1), ',')
          FROM pg_settings
         WHERE name ~ '^(rds|aurora|cloudsql|alloydb|azure|pgaudit_azure|neon|supabase|timescaledb_cloud)\.')
         AS managed_markers,
       (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory,
       pg_conf_load_time()::text AS conf_load_time
