-- the one rule of which rows of pg_stat_activity (alias a) hold a client's slot: client backends
    -- PostgreSQL 18 shows backends still authenticating (state `starting`, no role or database yet): they
    -- are client backends and hold a slot. A role without pg_read_all_stats sees them as it sees the
    -- server's own processes (every column hidden), so for it they cannot be told apart and are not counted.
    -- Rows of other roles without pg_read_all_stats have backend_type hidden: count those with a role and a
    -- database (this leaves out the logical replication launcher and physical walsenders; parallel workers
    -- and logical walsenders of other roles cannot be told apart and are counted).
    a.backend_type = 'client backend'
        OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL AND a.datid IS NOT NULL)
