-- entries of the configuration files, postgresql.auto.conf (ALTER SYSTEM) included; readable by superusers
SELECT coalesce(sourcefile, '') AS sourcefile,
       sourceline,
       lower(name) AS name,
       setting,
       applied,
       error,
       coalesce(sourcefile LIKE '%postgresql.auto.conf', false) AS auto_conf
FROM pg_file_settings
WHERE name IS NOT NULL
ORDER BY seqno
