-- sessions: client backends of pg_stat_activity (ages computed by the server), filtered
-- Longest in their state first, at most $limit of them (NULL: all).
-- The server's facts come along on the first row (as JSON), and a row comes even when no session matches
-- (its session columns NULL), so that this is the one statement `sessions` sends.
-- So do two counts over every session that matched, the ones past the limit included: how many, and how
-- many this role cannot see (other roles' rows without pg_read_all_stats sort last, so a limit would cut
-- exactly those). They share the ordering window of rn with a whole-partition frame (row_number ignores
-- frames): one sort and one WindowAgg, as without them; and they are sent on the first row only.
WITH c AS (
/*CLIENT_BACKENDS*/
), facts AS (
/*FACTS*/
), s AS (
    SELECT
/*SESSION_COLUMNS*/,
           -- the text fills track_activity_query_size (less its terminating byte): the server cut it
           $with_query AND octet_length(m.query) >= (SELECT setting::int - 1 FROM pg_settings WHERE name = 'track_activity_query_size') AS query_cut,
           row_number() OVER w AS rn,
           CASE WHEN row_number() OVER w = 1 THEN count(*) OVER w END AS matched,
           CASE WHEN row_number() OVER w = 1 THEN count(*) FILTER (WHERE NOT m.visible) OVER w END AS not_visible
      FROM (
        SELECT c.*
          FROM c
         WHERE
/*FILTER*/
      ) m
    WINDOW w AS (ORDER BY m.state_change NULLS LAST, m.pid ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    -- The window's own order, which its input is sorted in already: no second sort of every row.
    ORDER BY m.state_change NULLS LAST, m.pid
    LIMIT $limit
)
-- No ORDER BY here: `ON true` allows only a nested loop, and a left join's outer side is the one row, so
-- the rows come in s's order. Sorting them again by rn cost a tenth of the statement at 5,000 sessions.
SELECT CASE WHEN s.rn IS NULL OR s.rn = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       s.*
  FROM (SELECT) AS one
  LEFT JOIN s ON true
