-- session snapshot: client backends of pg_stat_activity (ages computed by the server), filtered, with the count of all of them
-- One pass: `used` counts every client backend (a window over all of them) before the filter drops rows,
-- and the first row stays even when it does not match, so that `used` arrives when nothing matches too.
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT m.used,
       m.matches,
/*SESSION_COLUMNS*/
  FROM (
    SELECT c.*,
           count(*) OVER ()::int AS used,
           row_number() OVER () AS rn,
           (
/*FILTER*/
           ) AS matches
      FROM c
  ) m
 WHERE m.matches OR m.rn = 1
 ORDER BY m.state_change NULLS LAST, m.pid
