-- every setting of this server: type, unit, limits, context and where this session's value comes from
SELECT lower(name) AS name,
       setting,
       unit,
       vartype,
       context,
       source,
       sourcefile,
       sourceline,
       min_val,
       max_val,
       enumvals,
       boot_val,
       pending_restart
FROM pg_settings
ORDER BY 1
