-- sessions with temporary relations in this database: pg_temp_N belongs to the backend with id N, which pg_stat_get_backend_pid maps to its pid from PostgreSQL 16 on; before 16 the ids are positions, not the N of pg_temp_N, so no session is a holder there ($include_temp_holders includes them, so nothing is read)
    SELECT DISTINCT pg_stat_get_backend_pid(substr(n.nspname, 9)::int) AS pid
      FROM pg_class r
      JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE NOT $include_temp_holders AND current_setting('server_version_num')::int >= 160000
       AND r.relpersistence = 't' AND n.nspname ~ '^pg_temp_[0-9]+$'
