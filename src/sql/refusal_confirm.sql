-- emergency route, after a normal connection was refused with SQLSTATE 53300: the WAL sender slots (`w`,
-- wal_senders.sql, which the route checks first in any case) and the server's own numbers behind the
-- refusal (client backends holding a slot now, by the rule of client_backends.sql in `c`, and the
-- reserved slots), in one statement, so that what pgconn states in numbers was read from the server,
-- not its words
SELECT w.*,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
       current_setting('reserved_connections', true)::int AS reserved_connections,
       (SELECT count(*) FROM c)::int AS used
  FROM w
