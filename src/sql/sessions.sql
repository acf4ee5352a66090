-- sessions: client backends of pg_stat_activity (ages computed by the server), filtered
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT
/*SESSION_COLUMNS*/
  FROM (
    SELECT c.*
      FROM c
     WHERE
/*FILTER*/
  ) m
 ORDER BY m.state_change NULLS LAST, m.pid
