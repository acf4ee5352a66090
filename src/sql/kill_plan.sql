-- reading the kill plan
-- The sessions a kill selects, what leaves any of them alone (the rule the signalling statement
-- re-checks), their rank for --keep, how many this role cannot see, and (for PostgreSQL < 16, which
-- cannot tell whose they are) how many temporary relations exist in this database.
-- With --blockers (the HEADS slots, see protection.sql) only head blockers match, each with the pids it blocks, and the
-- first row says how many sessions wait on a lock, which of them wait for a prepared transaction (pid 0), the heads
-- that are no client session and the heads this role cannot see (HEADS_SUMMARY); otherwise those are NULL. With
-- --blockers, `hidden` counts only the sessions this role cannot see that are heads of a chain a session it sees
-- waits on (pg_blocking_pids names pids whatever the role): a hidden session that blocks nobody is no candidate.
-- The first row comes even when it does not match, so that `hidden` (and the server's facts, as JSON)
-- arrive when nothing matches too: this is the one statement the plan sends.
WITH RECURSIVE c AS (
/*CLIENT_BACKENDS*/
), facts AS (
/*FACTS*/
), /*PROTECTION*/
SELECT CASE WHEN m.rn = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       m.hidden,
       m.matches AND m.visible AS matches,
       m.protection,
       m.keep_rank,
       m.allowed,
       m.blocking,
       m.state_change AS state_changed_at,
/*HEADS_SUMMARY*/
       (SELECT count(*) FROM pg_class r
         WHERE r.relpersistence = 't' AND NOT $include_temp_holders
           AND current_setting('server_version_num')::int < 160000)::int AS temp_relations,
/*SESSION_COLUMNS*/,
/*BLOCKED_BY*/
  FROM (
    SELECT p.*,
           -- rows of other roles this role cannot see, as far as what it can see of them matches (with
           -- --blockers, heads only: is_head is true for every row otherwise)
           count(*) FILTER (WHERE NOT p.visible AND p.who_matches AND p.is_head) OVER ()::int AS hidden,
           -- --keep: the most recently active candidates of each (database, user, application) come first
           CASE WHEN p.visible AND p.matches AND p.protection IS NULL THEN
               row_number() OVER (PARTITION BY p.visible AND p.matches AND p.protection IS NULL,
                                               p.datid, p.usesysid, coalesce(p.application_name, '')
                                  ORDER BY p.state_change DESC NULLS LAST, p.pid)
           END::int AS keep_rank,
           row_number() OVER () AS rn
      FROM p
  ) m
 WHERE (m.matches AND m.visible) OR m.rn = 1
 ORDER BY m.state_change NULLS LAST, m.pid
