-- leak_statements: the last statements of the leak suspects' idle sessions, per suspect (its position in
-- the arrays, from 1) and distinct text, with whether the server cut the text at
-- track_activity_query_size. Only sent when status found a leak suspect (and was asked to name its
-- statement): the status statement itself never reads the texts. $databases, $users, $applications: one
-- element per suspect (NULL when the name is unknown).
SELECT s.i::int AS suspect,
       a.query_id,
       CASE WHEN a.query_start IS NOT NULL THEN a.query END AS query,
       bool_or(octet_length(a.query) >= (SELECT setting::int - 1 FROM pg_settings WHERE name = 'track_activity_query_size')) AS query_cut,
       count(*)::int AS sessions
  FROM unnest($databases::text[], $users::text[], $applications::text[]) WITH ORDINALITY AS s(database, username, application, i)
  JOIN pg_stat_activity a
    ON a.datname IS NOT DISTINCT FROM s.database
   AND a.usename IS NOT DISTINCT FROM s.username
   AND coalesce(a.application_name, '') = s.application
 WHERE a.backend_type = 'client backend'
   AND a.state = 'idle'
   AND a.pid <> pg_backend_pid()
   AND NOT a.pid = ANY ($pooler_pids)
 GROUP BY 1, 2, 3
