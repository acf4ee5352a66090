-- a database's or a role's CONNECTION LIMIT (datconnlimit / rolconnlimit), its sessions now and what decides whether this role may change it
-- Exactly one of $database and $role is set; no row when it does not exist. The sessions are counted as the
-- server counts them when a session connects: client backends of the role / in the database, superusers'
-- and pgconn's own included (the server counts those too; it only exempts superusers from the check).
-- Who may change it is PostgreSQL's own rule (AlterDatabase, AlterRole), read from the same catalogs:
-- owner_privileges is object_ownercheck (the owner's privileges, superusers included); createrole is
-- have_createrole_privilege (this role's own attribute, never inherited); admin_option is
-- is_admin_of_role, which 16+ requires beside CREATEROLE.
WITH c AS (
/*CLIENT_BACKENDS*/
)
SELECT t.connlimit,
       t.superuser,
       t.replication,
       t.owner,
       t.owner_privileges,
       t.admin_option,
       (SELECT r.rolcreaterole FROM pg_roles r WHERE r.rolname = current_user) AS createrole,
       (SELECT count(*)
          FROM c
         WHERE ($database::text IS NULL OR c.datname = $database::text)
           AND ($role::text IS NULL OR c.usename = $role::text)) AS sessions
  FROM (
    SELECT d.datconnlimit AS connlimit,
           NULL::bool AS superuser,
           NULL::bool AS replication,
           pg_get_userbyid(d.datdba)::text AS owner,
           pg_has_role(current_user, d.datdba, 'USAGE') AS owner_privileges,
           NULL::bool AS admin_option
      FROM pg_database d
     WHERE d.datname = $database::text
       AND $role::text IS NULL
    UNION ALL
    SELECT r.rolconnlimit,
           r.rolsuper,
           r.rolreplication,
           NULL,
           NULL,
           pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')
      FROM pg_roles r
     WHERE r.rolname = $role::text
       AND $database::text IS NULL
  ) t
