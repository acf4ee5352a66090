-- client backends of pg_stat_activity (client_backend_rule.sql) with the facts every filter needs: whether the row is visible, superuser, own role
    -- OFFSET 0 keeps the filter below out of the joins' planning: estimated at one row, the filtered
    -- backends would be joined to pg_database with a nested loop per session; planned for all backends,
    -- the small catalogs are hashed once.
    SELECT *
      FROM (
        SELECT a.*,
               a.backend_type IS NOT NULL AS visible,
               coalesce(r.rolsuper, false) AS superuser,
               coalesce(r.own_role, false) AS own_role
          FROM pg_stat_activity a
          -- whether this role is (a member of) each role: once per role, not once per session (OFFSET 0
          -- keeps the call in the hashed side)
          LEFT JOIN (SELECT oid, rolsuper, pg_has_role(oid, 'USAGE') AS own_role FROM pg_roles OFFSET 0) r
                 ON r.oid = a.usesysid
        OFFSET 0
      ) a
     WHERE
/*CLIENT_BACKEND_RULE*/
