-- client backends of pg_stat_activity with the facts every filter needs: the one rule of which rows hold a client's slot
    -- PostgreSQL 18 shows backends still authenticating (state `starting`, no role or database yet): they
    -- are client backends and hold a slot. A role without pg_read_all_stats sees them as it sees the
    -- server's own processes (every column hidden), so for it they cannot be told apart and are not counted.
    -- OFFSET 0 keeps the filter below out of the joins' planning: estimated at one row, the filtered
    -- backends would be joined to pg_database with a nested loop per session; planned for all backends,
    -- the small catalogs are hashed once.
    SELECT *
      FROM (
        SELECT a.*,
               a.backend_type IS NOT NULL AS visible,
               coalesce(r.rolsuper, false) AS superuser,
               CASE WHEN r.oid IS NOT NULL THEN pg_has_role(r.oid, 'USAGE') ELSE false END AS own_role
          FROM pg_stat_activity a
          LEFT JOIN pg_roles r ON r.oid = a.usesysid
        OFFSET 0
      ) a
     WHERE a.backend_type = 'client backend'
        -- rows of other roles without pg_read_all_stats: backend_type is hidden; count those with a role and
        -- a database (this leaves out the logical replication launcher and physical walsenders; parallel
        -- workers and logical walsenders of other roles cannot be told apart and are counted)
        OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL AND a.datid IS NOT NULL)
