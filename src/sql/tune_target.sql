-- whether the database and the role a tune scope names exist
SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM pg_database WHERE datname = $1::text) AS database_exists,
       $2::text IS NULL OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2::text) AS role_exists
