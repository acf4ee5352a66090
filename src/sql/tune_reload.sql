-- make the server re-read its configuration files (ALTER SYSTEM writes postgresql.auto.conf only)
SELECT pg_reload_conf() AS reloaded
