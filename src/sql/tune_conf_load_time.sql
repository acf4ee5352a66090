-- when this session last loaded the configuration files (changes once a reload has reached it)
SELECT pg_conf_load_time()::text AS conf_load_time
