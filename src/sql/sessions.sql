-- sessions: client backends of pg_stat_activity (ages computed by the server), filtered
-- The server's facts come along on the first row (as JSON), and a row comes even when no session matches
-- (its session columns NULL), so that this is the one statement `sessions` sends.
WITH c AS (
/*CLIENT_BACKENDS*/
), facts AS (
/*FACTS*/
), s AS (
    SELECT
/*SESSION_COLUMNS*/,
           row_number() OVER (ORDER BY m.state_change NULLS LAST, m.pid) AS rn
      FROM (
        SELECT c.*
          FROM c
         WHERE
/*FILTER*/
      ) m
)
SELECT CASE WHEN s.rn IS NULL OR s.rn = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       s.*
  FROM (SELECT) AS one
  LEFT JOIN s ON true
 ORDER BY s.rn
