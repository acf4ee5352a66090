-- the cluster's system identifier (identifies the server in the tune history)
SELECT system_identifier::text AS system_identifier FROM pg_control_system()
