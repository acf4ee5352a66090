-- where the server takes the pooler's connection: the route to give ALTER SYSTEM instead of the pooler.
-- inet_server_addr() is NULL on a unix socket; then the first socket directory is where to connect.
SELECT host(inet_server_addr()) AS address,
       nullif(btrim(split_part(current_setting('unix_socket_directories'), ',', 1)), '') AS socket_dir,
       current_setting('port') AS port
