-- sessions whose session state transaction pooling would not keep, for advise's pooler finding: LISTEN listeners, advisory-lock holders and temporary-table holders, recognised as kill recognises them (protection.sql, temp_holders.sql); $pooler_pids (PgBouncer's server connections) left out, the shared filter applied, $include_temp_holders false
-- Set-wise: pg_locks read once, one row per such session only. Temporary tables are told apart per session
-- from PostgreSQL 16 on (temp_holders.sql says why).
WITH c AS (
/*CLIENT_BACKENDS*/
), adv AS (
    SELECT DISTINCT l.pid
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted
), tmp AS (
/*TEMP_HOLDERS*/
), s AS (
    SELECT c.pid,
           coalesce(c.application_name, '') AS application,
           -- the listener rule of protection.sql, character for character (a unit test holds it so)
           coalesce(c.query
               ~* E'(^|;)\\s*((/\\*([^*]|\\*+[^*/])*\\*+/|--[^\\n]*(\\n|$))\\s*)*listen\\M', false) AS listener,
           adv.pid IS NOT NULL AS advisory_lock,
           tmp.pid IS NOT NULL AS temp_tables
      FROM c
      LEFT JOIN adv ON adv.pid = c.pid
      LEFT JOIN tmp ON tmp.pid = c.pid
     WHERE c.visible
       AND NOT c.pid = ANY ($pooler_pids::int[])
       AND
/*FILTER*/
)
SELECT s.*
  FROM s
 WHERE s.listener OR s.advisory_lock OR s.temp_tables
 ORDER BY s.application, s.pid
