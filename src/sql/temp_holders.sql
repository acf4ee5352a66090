-- sessions with temporary relations in this database (PostgreSQL 16+): pg_temp_N belongs to the backend with id N, which pg_stat_get_backend_pid maps to its pid ($include_temp_holders includes them, so nothing is read)
    SELECT DISTINCT pg_stat_get_backend_pid(substr(n.nspname, 9)::int) AS pid
      FROM pg_class r
      JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE NOT $include_temp_holders AND r.relpersistence = 't' AND n.nspname ~ '^pg_temp_[0-9]+$'
