-- emergency route: the WAL sender slots (max_wal_senders) and how many are in use, this connection included;
-- rows of other roles are hidden from a role without pg_read_all_stats (their backend_type is NULL)
SELECT current_setting('max_wal_senders')::int AS max_wal_senders,
       count(*) FILTER (WHERE backend_type = 'walsender')::int AS wal_senders,
       count(*) FILTER (WHERE backend_type IS NULL)::int AS hidden
  FROM pg_stat_activity
