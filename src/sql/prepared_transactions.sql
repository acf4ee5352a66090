-- prepared transactions: what a session blocked by pid 0 waits for (sent only when sessions saw one)
SELECT x.gid,
       x.owner::text AS owner,
       x.database::text AS database,
       date_part('epoch', now() - x.prepared) AS age_seconds
  FROM pg_prepared_xacts x
 ORDER BY x.prepared, x.gid
