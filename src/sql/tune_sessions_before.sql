-- client sessions in a database / of a role that connected before now (they keep their old settings)
SELECT count(*) FILTER (WHERE backend_start < clock_timestamp()) AS before,
       count(*) FILTER (WHERE backend_start IS NULL) AS not_visible
FROM pg_stat_activity
WHERE (backend_type = 'client backend' OR backend_type IS NULL)
  AND pid <> pg_backend_pid()
  AND ($1::text IS NULL OR datname = $1::text)
  AND ($2::text IS NULL OR usename = $2::text)
