-- sessions: client backends of pg_stat_activity (ages computed by the server), filtered
-- Longest in their state first, at most $limit of them (NULL: all).
-- The server's facts come along on the first row (as JSON), and a row comes even when no session matches
-- (its session columns NULL), so that this is the one statement `sessions` sends.
-- So do two counts over every session that matched, the ones past the limit included: how many, and how
-- many this role cannot see (other roles' rows without pg_read_all_stats sort last, so a limit would cut
-- exactly those). They share the ordering window of rn with a whole-partition frame (row_number ignores
-- frames): one sort and one WindowAgg, as without them; and they are sent on the first row only.
-- With --blocked, only sessions waiting on a lock that someone holds, each with the head of its chain
-- (blocked.sql's CTEs before s, a join to them in m, the column head_blocker: the four BLOCKED and
-- HEAD_BLOCKER slots); without it, those slots are empty and nothing here asks pg_blocking_pids but blocked_by (waiters only).
WITH RECURSIVE c AS (
/*CLIENT_BACKENDS*/
), facts AS (
/*FACTS*/
), /*BLOCKED*/s AS (
    SELECT
/*SESSION_COLUMNS*/,/*HEAD_BLOCKER*/
           -- with --by-statement: the text fills track_activity_query_size (less its terminating byte), the
           -- server cut it; otherwise false, and the setting is not read
           /*QUERY_CUT*/ AS query_cut,
           row_number() OVER w AS rn,
           CASE WHEN row_number() OVER w = 1 THEN count(*) OVER w END AS matched,
           CASE WHEN row_number() OVER w = 1 THEN count(*) FILTER (WHERE NOT m.visible) OVER w END AS not_visible
      FROM (
        SELECT c.*/*BLOCKED_HEAD*/
          FROM c/*BLOCKED_JOIN*/
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
SELECT CASE WHEN m.rn IS NULL OR m.rn = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       m.*,
/*BLOCKED_BY*/
  FROM (SELECT) AS one
  LEFT JOIN s AS m ON true
