-- status: client sessions counted per database, user, application, state (and client when grouped by it; each session apart for --by process), with the idle-age percentiles and the session idle in transaction the longest
-- Sessions younger than 10 s (backend_start) are counted in the same pass (a connection storm is a large
-- share of them): one more filtered count against a cut-off computed once, nothing per row but a compare.
-- With Counting::session_counters, pg_stat_database's session counters (14+) come along as JSON on the
-- first row (session_counters.sql); otherwise that column is NULL and the view is not read (on 14 its
-- first read in a transaction waits for the stats collector's file).
-- $all_limits every role and database in `limits` (Prometheus: postgres_exporter's pg_roles_connection_limit
-- and pg_database_connection_limit have a row each), not only those with a connection limit
-- The server's facts come along (as JSON, on one row): no statement of their own.
-- One pass over pg_stat_get_activity(NULL), the function behind pg_stat_activity (the view's joins to
-- pg_database and pg_authid, which name every session, cost more to plan than to run and are not
-- needed: groups are named afterwards): its rows are grouped straight away (with whether they match the
-- filter), never copied whole or read twice. What needs single sessions is gathered in the same pass: the
-- times each session entered its state (as timestamps, from which pgconn computes every age and count:
-- 8 bytes a session) and, per group, the session idle in transaction the longest. Ages are from the
-- statement's start (statement_timestamp(), sent along: not now(), as the exporter runs it inside a
-- transaction).
-- Every group comes back, those that do not match the filter too (their per-session keys NULL, so they
-- stay a few rows): pgconn adds up `used`, the idle-age percentiles, the session idle in transaction the
-- longest and the sessions against each connection limit from the groups. Done here, each of those was a
-- subquery over the groups that cost a fresh backend more to plan (about 2 ms) than the client spends on
-- the few rows.
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
-- MATERIALIZED: read once either way; planned on its own, the grouping is hashed (the function's row
-- estimate would otherwise have it sorted, several times slower on text keys)
), g AS MATERIALIZED (
    SELECT c.datid,
           c.usesysid,
           coalesce(c.application_name, '') AS application,
           CASE WHEN $by_client AND c.visible THEN coalesce(host(c.client_addr), 'local') END AS client,
           c.state,
           -- status --by process: one row per matching session (its client process is looked up in
           -- /proc), with `c.pid` and `c.client_port` here and in GROUP BY; otherwise NULL, out of GROUP BY
           -- (grouping by a constant would still hash it for every row).
           /*SESSION_PID*/ AS pid,
           /*SESSION_CLIENT_PORT*/ AS client_port,
           -- status --by statement: the last statement's query_id and text (NULL when never queried, not
           -- visible or not matching), here and in GROUP BY (the server groups equal texts; pgconn
           -- normalises and hashes each distinct text); otherwise NULL, out of GROUP BY, and the text is
           -- never read.
           /*STATEMENT_QUERY_ID*/ AS query_id,
           /*STATEMENT_QUERY*/ AS query,
           c.pid = ANY ($pooler_pids) AS via_pgbouncer,
           /*MATCHES*/ AS matches,
           -- status and advise (Counting::leak_statements): a matching idle session's last statement (its
           -- query_id, or its text where the server computed none) is one more key, so that a leak
           -- suspect's dominant statement comes from this same pass (hashing a short text per idle session
           -- costs next to nothing; reading the view again for the suspects' texts cost as much as this
           -- whole pass), with one of the group's texts; otherwise NULL, out of GROUP BY. pgconn merges the
           -- rows back into buckets and keeps the texts of the groups the leak rule flags.
           /*LEAK_QUERY_ID*/ AS leak_query_id,
           /*LEAK_QUERY*/ AS leak_query_key,
           count(*)::int AS sessions,
           /*LEAK_CUT*/ AS leak_query_cut,
           /*LEAK_SAMPLE*/ AS leak_query,
           -- when each session entered its state (NULL ones left out): pgconn counts those in it longer than
           -- each age and takes the percentiles of the idle ones from them, one aggregate per session for
           -- six (the ages' counts and the percentiles' array were a filtered aggregate each)
           array_agg(c.state_change) FILTER (WHERE c.state_change IS NOT NULL) AS state_changes,
           -- --by statement: the text fills track_activity_query_size (less its terminating byte), cut
           /*STATEMENT_CUT*/ AS query_cut,
           count(*) FILTER (WHERE c.backend_start > (SELECT statement_timestamp() - interval '10 s'))::int AS young,
           min(c.xact_start) AS oldest_xact_start,
           -- the group's sessions waiting on a lock (a comparison per row, no call): only when there are
           -- some does status ask who blocks them (head_blocker.sql, a statement of its own), so with no
           -- waiter nothing else is planned or run
           array_agg(c.pid) FILTER (WHERE c.wait_event_type = 'Lock') AS lock_waiters,
           -- the group's session idle in transaction the longest, as text: since when (epoch microseconds,
           -- zero-padded, so that min() of the arrays, which compares element by element, picks the
           -- earliest), pid, database and role oids, transaction age ("" for none), client, application, idle age. In the
           -- same pass, rather than a second read of the view for that one session (which costs a fresh
           -- backend about a millisecond to plan).
           min(ARRAY[lpad((date_part('epoch', c.state_change) * 1000000)::bigint::text, 20, '0'), c.pid::text,
                     c.datid::text, c.usesysid::text,
                     coalesce(date_part('epoch', statement_timestamp() - c.xact_start)::text, ''),
                     coalesce(host(c.client_addr), 'local'), coalesce(c.application_name, ''),
                     date_part('epoch', statement_timestamp() - c.state_change)::text]) FILTER (
               WHERE c.visible AND c.state_change IS NOT NULL
                 AND c.state IN ('idle in transaction', 'idle in transaction (aborted)')) AS oldest_idle_transaction
      FROM c
     GROUP BY 1, 2, 3, 4, 5, 10, 11/*BY_SESSION*//*BY_STATEMENT*//*BY_LEAK*/
)
-- Connection limits (rolconnlimit, datconnlimit; -1 is none, a database's -2 marks it invalid), as JSON
-- arrays on the first row: only roles and databases with a limit unless $all_limits. pgconn counts the
-- sessions the server checks them against from the groups: client backends of that role / in that
-- database, all of them (not only the filter's). pg_roles' join to pg_db_role_setting is removed by the
-- planner (unique on setdatabase, setrole; no column of it used).
SELECT CASE WHEN row_number() OVER () = 1 THEN (SELECT to_json(x)::text FROM facts x) END AS facts,
       statement_timestamp() AS statement_start,
       CASE WHEN row_number() OVER () = 1 THEN /*EXPORTER_COUNTS_JSON*/ END AS exporter_counts,
       CASE WHEN row_number() OVER () = 1 THEN /*SESSION_COUNTERS_JSON*/ END AS session_counters,
       CASE WHEN row_number() OVER () = 1 THEN (
           SELECT json_agg(json_build_array(r.oid::int8, r.rolname, r.rolconnlimit, r.rolsuper))::text
             FROM pg_roles r
            WHERE $all_limits OR r.rolconnlimit <> -1) END AS role_limits,
       CASE WHEN row_number() OVER () = 1 THEN (
           SELECT json_agg(json_build_array(l.oid::int8, l.datname, l.datconnlimit, false))::text
             FROM pg_database l
            WHERE $all_limits OR l.datconnlimit <> -1) END AS database_limits,
       g.datid::int8 AS datid,
       g.usesysid::int8 AS usesysid,
       d.datname::text AS database,
       nullif(pg_get_userbyid(g.usesysid)::text, 'unknown (OID=' || g.usesysid || ')') AS "user",
       -- what only the filter's sessions need is not sent for the others
       g.matches,
       CASE WHEN g.matches THEN g.state_changes END AS state_changes,
       CASE WHEN g.matches THEN g.oldest_idle_transaction END AS oldest_idle_transaction,
       g.application, g.client, g.state, g.pid, g.client_port, g.query_id, g.query, g.query_cut,
       g.leak_query_id, CASE WHEN g.matches THEN g.leak_query END AS leak_query, g.leak_query_cut,
       g.via_pgbouncer, g.sessions, g.young,
       g.lock_waiters,
       date_part('epoch', statement_timestamp() - g.oldest_xact_start) AS oldest_xact_seconds
  -- one row at least (the facts), even with no client backend at all (pgconn over a WAL sender)
  FROM (SELECT) one
  LEFT JOIN g ON true
  LEFT JOIN pg_database d ON d.oid = g.datid
