-- status: client sessions counted per database, user, application, state (and client when grouped by it; each session apart for --by process), with the idle-age percentiles and the session idle in transaction the longest
-- $leak_age leak age, $idle_in_transaction_age idle-in-transaction age, $extra_age a caller's own age (check's --idle-age; NULL counts nothing)
-- Sessions younger than 10 s (backend_start) are counted in the same pass (a connection storm is a large
-- share of them): one more filtered count against a cut-off computed once, nothing per row but a compare.
-- With Counting::session_counters, pg_stat_database's session counters (14+) come along as JSON on the
-- first row (session_counters.sql); otherwise that column is NULL and the view is not read (on 14 its
-- first read in a transaction waits for the stats collector's file).
-- $all_limits every role and database in `limits` (Prometheus: postgres_exporter's pg_roles_connection_limit
-- and pg_database_connection_limit have a row each), not only those with a connection limit
-- The server's facts come along (as JSON, on one row): no statement of their own.
-- One pass over pg_stat_activity: its rows are grouped straight away (with whether they match the filter,
-- so that `used` counts them all), never copied whole or read twice. What needs single sessions is
-- gathered in the same pass: the idle ages (for the percentiles, idle sessions only) and, per group, the
-- session idle in transaction the longest. Ages are compared as timestamps against cut-offs the
-- server computes once (an InitPlan each); seconds are computed for the few groups only. Ages are from
-- the statement's start (statement_timestamp(), not now(): the exporter runs it inside a transaction).
-- For Prometheus, the statement also counts as postgres_exporter does (exporter_counts.sql, as JSON on the
-- first row); then pg_stat_activity is read once into `every`, and c from it.
-- Sessions are grouped by database and role oid and named afterwards, so that (unless a filter needs the
-- names) the server names a few groups instead of every session: databases by a join to pg_database,
-- roles by pg_get_userbyid (a join to the pg_roles view costs more to plan than the rest of the names;
-- for an oid no role has, the function says "unknown (OID=n)", which is NULL here as in the view).
WITH /*EXPORTER_COUNTS*/c AS (
    SELECT a.*, a.backend_type IS NOT NULL AS visible
      FROM /*ACTIVITY*/ a
     WHERE
/*CLIENT_BACKEND_RULE*/
), facts AS (
/*FACTS*/
), g AS (
    SELECT c.datid,
           c.usesysid,
           coalesce(c.application_name, '') AS application,
           CASE WHEN $by_client AND c.visible THEN coalesce(host(c.client_addr), 'local') END AS client,
           c.state,
           -- status --by process: one row per session (its client process is looked up in /proc), with
           -- `c.pid` and `c.client_port` here and in GROUP BY; otherwise NULL, out of GROUP BY (grouping
           -- by a constant would still hash it for every row).
           /*SESSION_PID*/ AS pid,
           /*SESSION_CLIENT_PORT*/ AS client_port,
           -- status --by statement: the last statement's query_id and text (NULL when never queried or
           -- not visible), here and in GROUP BY (the server groups equal texts; pgconn normalises and
           -- hashes each distinct text); otherwise NULL, out of GROUP BY, and the text is never read.
           /*STATEMENT_QUERY_ID*/ AS query_id,
           /*STATEMENT_QUERY*/ AS query,
           c.pid = ANY ($pooler_pids) AS via_pgbouncer,
           coalesce((
/*FILTER*/
           ), false) AS matches,
           -- status and advise (Counting::leak_statements): an idle session's last statement (its query_id,
           -- or its text where the server computed none) is one more key, so that a leak suspect's dominant
           -- statement comes from this same pass (hashing a short text per idle session costs next to
           -- nothing; reading the view again for the suspects' texts cost as much as this whole pass), with
           -- one of the group's texts; otherwise NULL, out of GROUP BY. pgconn merges the rows back into
           -- buckets and keeps the texts of the groups the leak rule flags.
           /*LEAK_QUERY_ID*/ AS leak_query_id,
           /*LEAK_QUERY*/ AS leak_query_key,
           count(*)::int AS sessions,
           /*LEAK_CUT*/ AS leak_query_cut,
           /*LEAK_SAMPLE*/ AS leak_query,
           count(c.state_change)::int AS with_age,
           -- --by statement: the text fills track_activity_query_size (less its terminating byte), cut
           /*STATEMENT_CUT*/ AS query_cut,
           count(*) FILTER (WHERE c.state_change < (SELECT statement_timestamp() - make_interval(secs => $leak_age)))::int AS older_than_leak_age,
           count(*) FILTER (WHERE c.state_change < (SELECT statement_timestamp() - make_interval(secs => $idle_in_transaction_age)))::int AS older_than_idle_in_transaction_age,
           count(*) FILTER (WHERE c.state_change < (SELECT statement_timestamp() - make_interval(secs => $extra_age)))::int AS older_than_extra_age,
           count(*) FILTER (WHERE c.backend_start > (SELECT statement_timestamp() - interval '10 s'))::int AS young,
           min(c.state_change) AS oldest_state_change,
           min(c.xact_start) AS oldest_xact_start,
           -- the group's sessions waiting on a lock (a comparison per row, no call): only when there are
           -- some does status ask who blocks them (head_blocker.sql, a statement of its own), so with no
           -- waiter nothing else is planned or run
           array_agg(c.pid) FILTER (WHERE c.wait_event_type = 'Lock') AS lock_waiters,
           array_agg(date_part('epoch', statement_timestamp() - c.state_change)) FILTER (WHERE c.state = 'idle' AND c.state_change IS NOT NULL) AS idle_ages,
           -- the group's session idle in transaction the longest, as text: since when (epoch microseconds,
           -- zero-padded, so that min() of the arrays, which compares element by element, picks the
           -- earliest), pid, database and role oids, transaction age, client, application, idle age. In the
           -- same pass, rather than a second read of the view for that one session (which costs a fresh
           -- backend about a millisecond to plan).
           min(ARRAY[lpad((date_part('epoch', c.state_change) * 1000000)::bigint::text, 20, '0'), c.pid::text,
                     c.datid::text, c.usesysid::text,
                     date_part('epoch', statement_timestamp() - c.xact_start)::text,
                     coalesce(host(c.client_addr), 'local'), coalesce(c.application_name, ''),
                     date_part('epoch', statement_timestamp() - c.state_change)::text]) FILTER (
               WHERE c.visible AND c.state_change IS NOT NULL
                 AND c.state IN ('idle in transaction', 'idle in transaction (aborted)')) AS oldest_idle_transaction
      FROM c
     GROUP BY 1, 2, 3, 4, 5, 10, 11/*BY_SESSION*//*BY_STATEMENT*//*BY_LEAK*/
), t AS (
    SELECT coalesce(sum(g.sessions), 0)::int AS used,
           (SELECT percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY x)
              FROM g, unnest(g.idle_ages) x
             WHERE g.matches) AS p,
           min(g.oldest_idle_transaction) FILTER (WHERE g.matches) AS oldest_idle_transaction
      FROM g
), lim AS (
    -- Connection limits (rolconnlimit, datconnlimit; -1 is none, a database's -2 marks it invalid), with
    -- the sessions the server checks them against: its client backends of that role / in that database,
    -- all of them (not only the filter's), counted from the groups above (a few rows, never the view
    -- again). Only roles and databases with a limit unless $all_limits, and their sessions only then: a
    -- server without limits pays for two scans of small catalogs. pg_roles' join to pg_db_role_setting is
    -- removed by the planner (unique on setdatabase, setrole; no column of it used).
    SELECT json_build_object(
             'roles', (SELECT coalesce(json_agg(json_build_object(
                                'user', r.rolname::text, 'limit', r.rolconnlimit, 'superuser', r.rolsuper,
                                'sessions', coalesce(n.sessions, 0),
                                'largest_application', n.application,
                                'largest_application_sessions', coalesce(n.application_sessions, 0))
                              ORDER BY r.rolname), '[]')
                         FROM pg_roles r
                         LEFT JOIN LATERAL (
                             SELECT sum(x.n)::int AS sessions,
                                    (array_agg(x.application ORDER BY x.n DESC, x.application))[1] AS application,
                                    max(x.n) AS application_sessions
                               FROM (SELECT g.application, sum(g.sessions)::int AS n
                                       FROM g
                                      WHERE g.usesysid = r.oid AND r.rolconnlimit <> -1
                                      GROUP BY g.application) x
                         ) n ON true
                        WHERE $all_limits OR r.rolconnlimit <> -1),
             'databases', (SELECT coalesce(json_agg(json_build_object(
                                'database', d.datname::text, 'limit', d.datconnlimit,
                                'sessions', coalesce(n.sessions, 0),
                                'largest_application', n.application,
                                'largest_application_sessions', coalesce(n.application_sessions, 0))
                              ORDER BY d.datname), '[]')
                         FROM pg_database d
                         LEFT JOIN LATERAL (
                             SELECT sum(x.n)::int AS sessions,
                                    (array_agg(x.application ORDER BY x.n DESC, x.application))[1] AS application,
                                    max(x.n) AS application_sessions
                               FROM (SELECT g.application, sum(g.sessions)::int AS n
                                       FROM g
                                      WHERE g.datid = d.oid AND d.datconnlimit <> -1
                                      GROUP BY g.application) x
                         ) n ON true
                        WHERE $all_limits OR d.datconnlimit <> -1)
           )::text AS limits
), o AS (
    SELECT t.*,
           t.oldest_idle_transaction[2]::int AS pid,
           t.oldest_idle_transaction[3]::oid AS datid,
           t.oldest_idle_transaction[4]::oid AS usesysid
      FROM t
)
SELECT CASE WHEN row_number() OVER () = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       CASE WHEN row_number() OVER () = 1 THEN /*EXPORTER_COUNTS_JSON*/ END AS exporter_counts,
       CASE WHEN row_number() OVER () = 1 THEN /*SESSION_COUNTERS_JSON*/ END AS session_counters,
       CASE WHEN row_number() OVER () = 1 THEN (SELECT lim.limits FROM lim) END AS limits,
       o.used,
       o.p[1] AS idle_median_seconds,
       o.p[2] AS idle_p95_seconds,
       o.pid AS oldest_idle_transaction_pid,
       od.datname::text AS oldest_idle_transaction_database,
       nullif(pg_get_userbyid(o.usesysid)::text, 'unknown (OID=' || o.usesysid || ')') AS oldest_idle_transaction_user,
       o.oldest_idle_transaction[7] AS oldest_idle_transaction_application,
       o.oldest_idle_transaction[6] AS oldest_idle_transaction_client,
       o.oldest_idle_transaction[8]::float8 AS oldest_idle_transaction_idle_seconds,
       o.oldest_idle_transaction[5]::float8 AS oldest_idle_transaction_xact_seconds,
       d.datname::text AS database,
       nullif(pg_get_userbyid(g.usesysid)::text, 'unknown (OID=' || g.usesysid || ')') AS "user",
       g.application, g.client, g.state, g.pid, g.client_port, g.query_id, g.query, g.query_cut,
       g.leak_query_id, g.leak_query, g.leak_query_cut,
       g.via_pgbouncer, g.sessions, g.with_age,
       g.older_than_leak_age, g.older_than_idle_in_transaction_age, g.older_than_extra_age, g.young,
       g.lock_waiters,
       date_part('epoch', statement_timestamp() - g.oldest_state_change) AS oldest_state_seconds,
       date_part('epoch', statement_timestamp() - g.oldest_xact_start) AS oldest_xact_seconds
  FROM o
  LEFT JOIN pg_database od ON od.oid = o.datid
  LEFT JOIN g ON g.matches
  LEFT JOIN pg_database d ON d.oid = g.datid
