-- settings this role may not change with ALTER SYSTEM (GRANT ALTER SYSTEM ON PARAMETER, PostgreSQL 15+)
SELECT n AS name
FROM unnest($1::text[]) AS n
WHERE NOT has_parameter_privilege(n, 'ALTER SYSTEM')
