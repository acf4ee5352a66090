-- before PostgreSQL 16 the backend ids of pg_stat_get_backend_idset() are positions, not the N of pg_temp_N: which session holds temporary tables cannot be told, so no session is a holder whatever $include_temp_holders says
    SELECT NULL::int AS pid WHERE false AND NOT $include_temp_holders
