# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pgconn_global_optspecs
    string join \n h/host= p/port= U/username= d/dbname= service= W/password connect-timeout= targets= jobs= target-timeout= break-glass= fallback-user= platform= json color= show-sql help V/version
end

function __fish_pgconn_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pgconn_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pgconn_using_subcommand
    set -l cmd (__fish_pgconn_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pgconn -n "__fish_pgconn_needs_command" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_needs_command" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_needs_command" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_needs_command" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_needs_command" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_needs_command" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_needs_command" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_needs_command" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_needs_command" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_needs_command" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "status" -d 'How full the server is, sessions per state, idle ages and who holds the connections'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "sessions" -d 'List client sessions, longest in their state first'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "ps" -d 'List client sessions, longest in their state first'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "kill-idle" -d 'Terminate sessions idle for longer than a threshold: preview, confirm, re-check, log'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "kill" -d 'Terminate (or cancel the query of) chosen sessions: by pid, filters, state, age or --all'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "rescue" -d 'On the database host, when no connection gets in: terminate idle backends through the OS (SIGTERM)'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "tune" -d 'Show, set, reset and undo connection timeouts and limits (ALTER DATABASE / ROLE / SYSTEM)'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "advise" -d 'Findings with the exact fix: leaks, idle transactions, missing timeouts, pool sizes, PgBouncer'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "check" -d 'Nagios/Icinga check: one line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "watch" -d 'Keep watching: a full-screen view on a terminal, one timestamped line per sample otherwise'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "exporter" -d 'Serve Prometheus: /metrics for every target, /probe?target=NAME for one configured target'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "sandbox" -d 'Start a throwaway local server with a simulated connection leak'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c pgconn -n "__fish_pgconn_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l by -d 'Group sessions by these keys. `process` is the client process\'s program on this host (Linux, from /proc and the kernel\'s socket tables; other users\' processes need root), with its pids' -r -f -a "database\t''
user\t''
application\t''
client\t''
state\t''
process\t''
statement\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l top -d 'Show the N largest groups (0 for all; watch also fits them to the terminal\'s height)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l warn-used -d 'WARNING when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l crit-used -d 'CRITICAL when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l idle-in-transaction-age -d 'WARNING when a session has been idle in transaction longer than this' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l storm-share -d 'WARNING "connection storm" when more than this percent of the client sessions (at least 20) started in the last 10 seconds' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l leak-idle-age -d 'A (database, user, application) holding sessions idle longer than this ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l leak-min-sessions -d '... and at least this many of them is named as a possible leak (WARNING)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l leak-share -d 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l format -d 'Output format; --json is short for --format json' -r -f -a "table\t'Tables for people'
json\t'JSON (an array of per-target results with several targets)'
prometheus\t'Prometheus text exposition format (gauges named pgconn_*)'"
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l output -d 'Write the output to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename), e.g. for node_exporter\'s textfile collector. A target that could not be collected is written as pgconn_up 0 and pgconn_scrape_error{kind} 1 (exit 1); only the table or JSON of a single server that failed leaves FILE as it was' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l pgbouncer -d 'Also read this PgBouncer\'s admin console (a conninfo or URI; dbname defaults to pgbouncer)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l leak-statement-metric -d 'With --format prometheus: also pgconn_leak_suspect_statement_sessions, each leak suspect\'s dominant last statement by its fingerprint id (a `statement` label; off by default, one more series per suspect, and one more statement when there is a suspect)'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s w -l wide -d 'Every column in full and every line unwrapped. Otherwise, on a terminal narrower than the output, the group table\'s OTHER and ACTIVE columns drop first (in that order), long names are cut with … and lines of text wrap at a word; piped output is never fitted'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand status" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l state -d 'Only sessions in this state' -r -f -a "active\t''
idle\t''
idle-in-transaction\t''
idle-in-transaction-aborted\t''
fastpath\t''
disabled\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l idle-longer-than -d 'Only sessions whose state has not changed for longer than this (with a unit: 30s, 5min)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l limit -d 'Show at most N sessions (0 for all)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l pgbouncer -d 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s w -l wide -d 'Every column in full. Otherwise, on a terminal narrower than the table, WAIT, XACT, CLIENT and DATABASE drop first (in that order) and long cells are cut with …; piped output is never fitted'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l blocked -d 'Only sessions waiting on a lock that another session (or a prepared transaction, pid 0) holds, each with the head of its chain: the blocker that waits for nobody (often idle in transaction)'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l processes -d 'Find the client process behind each session on this host (Linux): its pid, OS user and command (from /proc and the kernel\'s socket tables). Another user\'s processes need root'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l by-statement -d 'Fingerprint each session\'s last statement (the server\'s query_id where it computes one, else a hash of the text with literals, comments and numbers masked) and list the sessions per fingerprint'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand sessions" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l state -d 'Only sessions in this state' -r -f -a "active\t''
idle\t''
idle-in-transaction\t''
idle-in-transaction-aborted\t''
fastpath\t''
disabled\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l idle-longer-than -d 'Only sessions whose state has not changed for longer than this (with a unit: 30s, 5min)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l limit -d 'Show at most N sessions (0 for all)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l pgbouncer -d 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s w -l wide -d 'Every column in full. Otherwise, on a terminal narrower than the table, WAIT, XACT, CLIENT and DATABASE drop first (in that order) and long cells are cut with …; piped output is never fitted'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l blocked -d 'Only sessions waiting on a lock that another session (or a prepared transaction, pid 0) holds, each with the head of its chain: the blocker that waits for nobody (often idle in transaction)'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l processes -d 'Find the client process behind each session on this host (Linux): its pid, OS user and command (from /proc and the kernel\'s socket tables). Another user\'s processes need root'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l by-statement -d 'Fingerprint each session\'s last statement (the server\'s query_id where it computes one, else a hash of the text with literals, comments and numbers masked) and list the sessions per fingerprint'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand ps" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l older-than -d 'Only sessions whose state has not changed for longer than this (with a unit: 30s, 5min, 1h30m)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l state -d 'States to act on (default: idle); repeat to combine, e.g. --state idle --state idle-in-transaction' -r -f -a "idle\t''
idle-in-transaction\t''
idle-in-transaction-aborted\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l protect-app -d 'Never touch sessions of this application (repeatable, `*` wildcards)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l protect-user -d 'Never touch sessions of this user (repeatable, `*` wildcards)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l pgbouncer -d 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI) and leave them alone unless --include-pooler' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l if-more-than -d 'Act only when more than N sessions match (otherwise report and exit 0)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l keep -d 'Leave the N most recently active matching sessions of each (database, user, application) alone, re-checked when acting: if kept sessions ended meanwhile, fewer are terminated' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l max -d 'Act on at most N sessions in this run (the longest in their state first)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l wait -d 'How long to wait for signalled sessions to end before reporting them as still present' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l log -d 'Append to FILE (created mode 0600) one JSON line per session before it is signalled, one with its outcome after, and a summary; nothing is signalled that could not be recorded first. FILE must be a regular file of this user\'s (never a link, FIFO or device) in a directory no other user may change (one with the sticky bit, like /tmp, is fine)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l batch-size -d 'Sessions per terminating statement' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l dry-run -d 'Show what would be done, change nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s y -l yes -d 'Do not ask for confirmation (needed when there is no terminal)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-superusers -d 'Also act on sessions of superusers (left alone by default)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-provider -d 'Also act on a managed platform\'s own admin sessions (rdsadmin on RDS and Aurora, …; left alone by default, listed as protection: provider)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-listeners -d 'Also act on sessions whose last statement was LISTEN (left alone by default: a terminated listener silently misses notifications)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-lock-holders -d 'Also act on sessions holding advisory locks (left alone by default: job queues, migration runners and leader elections hold them for as long as the session lives)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-temp-holders -d 'Also act on sessions with temporary tables (left alone by default: their data goes with them; detected in the connected database on PostgreSQL 16+)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l include-pooler -d 'Also act on PgBouncer\'s server connections (in session pooling each one carries a live client)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l log-queries -d 'Also record each session\'s last query in the --log file, with its string literals masked'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s q -l quiet -d 'Print nothing unless something was done or went wrong: for cron. Then only the summary line (and the results, when a session was denied, failed, is unknown or still there after --wait); warnings and errors as always. Needs --yes (nobody is asked without seeing the plan)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s w -l wide -d 'Every column of the preview in full (see `sessions --wide`)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill-idle" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l pid -d 'This backend pid (repeatable)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l state -d 'Only sessions in this state (repeatable)' -r -f -a "active\t''
idle\t''
idle-in-transaction\t''
idle-in-transaction-aborted\t''
fastpath\t''
disabled\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l running-longer-than -d 'Only active sessions whose current query has run longer than this (with a unit: 30s, 5min)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l idle-longer-than -d 'Only idle sessions (any idle state) unchanged for longer than this (with a unit: 30s, 5min)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l protect-app -d 'Never touch sessions of this application (repeatable, `*` wildcards)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l protect-user -d 'Never touch sessions of this user (repeatable, `*` wildcards)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l pgbouncer -d 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI) and leave them alone unless --include-pooler' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l if-more-than -d 'Act only when more than N sessions match (otherwise report and exit 0)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l keep -d 'Leave the N most recently active matching sessions of each (database, user, application) alone, re-checked when acting: if kept sessions ended meanwhile, fewer are terminated' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l max -d 'Act on at most N sessions in this run (the longest in their state first)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l wait -d 'How long to wait for signalled sessions to end before reporting them as still present' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l log -d 'Append to FILE (created mode 0600) one JSON line per session before it is signalled, one with its outcome after, and a summary; nothing is signalled that could not be recorded first. FILE must be a regular file of this user\'s (never a link, FIFO or device) in a directory no other user may change (one with the sticky bit, like /tmp, is fine)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l batch-size -d 'Sessions per terminating statement' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l cancel -d 'Cancel the running query (pg_cancel_backend) and keep the session, instead of terminating it'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l all -d 'Every client session but pgconn\'s own (still previewed and confirmed)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l blockers -d 'The head blockers: sessions holding a lock others wait for and waiting for nobody themselves (the root of each chain; never the waiting sessions, never a prepared transaction, which the plan lists with the COMMIT / ROLLBACK PREPARED to consider). The filters narrow the heads. Re-checked when acting: a head that ran a statement since the preview, or blocks nobody any more, is skipped'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l dry-run -d 'Show what would be done, change nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s y -l yes -d 'Do not ask for confirmation (needed when there is no terminal)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-superusers -d 'Also act on sessions of superusers (left alone by default)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-provider -d 'Also act on a managed platform\'s own admin sessions (rdsadmin on RDS and Aurora, …; left alone by default, listed as protection: provider)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-listeners -d 'Also act on sessions whose last statement was LISTEN (left alone by default: a terminated listener silently misses notifications)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-lock-holders -d 'Also act on sessions holding advisory locks (left alone by default: job queues, migration runners and leader elections hold them for as long as the session lives)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-temp-holders -d 'Also act on sessions with temporary tables (left alone by default: their data goes with them; detected in the connected database on PostgreSQL 16+)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l include-pooler -d 'Also act on PgBouncer\'s server connections (in session pooling each one carries a live client)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l log-queries -d 'Also record each session\'s last query in the --log file, with its string literals masked'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s q -l quiet -d 'Print nothing unless something was done or went wrong: for cron. Then only the summary line (and the results, when a session was denied, failed, is unknown or still there after --wait); warnings and errors as always. Needs --yes (nobody is asked without seeing the plan)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s w -l wide -d 'Every column of the preview in full (see `sessions --wide`)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand kill" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s D -l pgdata -d 'The cluster\'s data directory (its postmaster.pid names the postmaster); default: $PGDATA, else the only PostgreSQL server running on this machine' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l pid -d 'The postmaster\'s pid (the first line of postmaster.pid)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l state -d 'States to act on, as the process titles show them (default: idle); repeat to combine' -r -f -a "idle\t''
idle-in-transaction\t''
idle-in-transaction-aborted\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l connected-longer-than -d 'Only backends connected for longer than this (with a unit: 30s, 5min; from the process start time; titles carry no idle time)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l keep -d 'Leave the N most recently connected matching backends of each (database, user) alone' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l max -d 'Act on at most N backends in this run (the longest connected first)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l wait -d 'How long to wait for signalled backends to exit before reporting them as still there' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l log -d 'Append to FILE (created mode 0600) one JSON line per backend before it is signalled, one with its outcome after, and a summary; nothing is signalled that could not be recorded first. FILE must be a regular file of this user\'s (never a link, FIFO or device) in a directory no other user may change (one with the sticky bit, like /tmp, is fine)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l all -d 'Take every backend in the selected states: without --user, --db or --client (or this), rescue refuses and lists the (user, database) groups, since titles cannot tell a pool or an administrator\'s session from a leak'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l trust-titles -d 'Trust a title the kernel cannot confirm (see "Which titles are trusted" below); never one the kernel contradicts'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l dry-run -d 'Show what would be done, signal nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s y -l yes -d 'Do not ask for confirmation (needed when there is no terminal)'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand rescue" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l database -d 'Show the values sessions in this database get, and its connection limit' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l role -d 'Show the values sessions of this role get (with --database: of this role in that database), and its connection limit' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s w -l wide -d 'Every column in full. Otherwise, on a terminal narrower than the table, RESTART and SOURCE drop first and long cells are cut with …'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "show" -d 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "set" -d 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "reset" -d 'Remove settings from a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "undo" -d 'Restore what the last tune change on this server replaced'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "history" -d 'List the changes recorded in the tune history'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "presets" -d 'List the presets `tune set --preset` knows'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and not __fish_seen_subcommand_from show set reset undo history presets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l database -d 'Show the values sessions in this database get, and its connection limit' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l role -d 'Show the values sessions of this role get (with --database: of this role in that database), and its connection limit' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s w -l wide -d 'Every column in full. Otherwise, on a terminal narrower than the table, RESTART and SOURCE drop first and long cells are cut with …'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l preset -d 'Start from a preset (`pgconn tune presets` lists them); NAME=VALUE pairs win over it' -r -f -a "leak-guard\t'idle_in_transaction_session_timeout 5min, TCP keepalives, client_connection_check_interval'
runbook\t'idle_in_transaction_session_timeout 5min, statement_timeout 30s'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l database -d 'ALTER DATABASE DB SET ...: sessions in this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l role -d 'ALTER ROLE ROLE SET ...: sessions of this role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l in-database -d 'With --role: ALTER ROLE ROLE IN DATABASE DB SET ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l instance-memory -d 'RDS / Aurora with --system: the instance class\'s memory (e.g. 16GiB; GB is read as GiB), to warn when max_connections is above RDS\'s default for it, LEAST(DBInstanceClassMemory/9531392, 5000)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l history -d 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l system -d 'ALTER SYSTEM SET ... then reload: the whole server. A value PostgreSQL would not start with (max_connections and the other server-process counts, at their next-start values) is refused'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l dry-run -d 'Show the plan and the exact SQL, change nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l database -d 'ALTER DATABASE DB SET ...: sessions in this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l role -d 'ALTER ROLE ROLE SET ...: sessions of this role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l in-database -d 'With --role: ALTER ROLE ROLE IN DATABASE DB SET ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l history -d 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l all -d 'Every connection setting (those `tune show` lists) stored in the scope'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l system -d 'ALTER SYSTEM SET ... then reload: the whole server. A value PostgreSQL would not start with (max_connections and the other server-process counts, at their next-start values) is refused'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l dry-run -d 'Show the plan and the exact SQL, change nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l history -d 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l force -d 'Undo even when the scope no longer stores what pgconn set (someone changed it since); the plan names both values'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l dry-run -d 'Show the plan and the exact SQL, change nothing'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from undo" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l history -d 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from presets" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "show" -d 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Remove settings from a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "undo" -d 'Restore what the last tune change on this server replaced'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "history" -d 'List the changes recorded in the tune history'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "presets" -d 'List the presets `tune set --preset` knows'
complete -c pgconn -n "__fish_pgconn_using_subcommand tune; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l warn-used -d 'WARNING when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l crit-used -d 'CRITICAL when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l idle-in-transaction-age -d 'WARNING when a session has been idle in transaction longer than this' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l storm-share -d 'WARNING "connection storm" when more than this percent of the client sessions (at least 20) started in the last 10 seconds' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l leak-idle-age -d 'A (database, user, application) holding sessions idle longer than this ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l leak-min-sessions -d '... and at least this many of them is named as a possible leak (WARNING)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l leak-share -d 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l pgbouncer -d 'Also read this PgBouncer\'s admin console (a conninfo or URI; dbname defaults to pgbouncer)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l headroom -d 'Share of the usable slots the suggested pool sizes leave free' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l rate-window -d 'Read pg_stat_database\'s session counters twice this far apart, for the rates of sessions started, abandoned and ended by FATAL errors (0: once, no rates)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l samples -d 'Read each application\'s working sessions (active, or idle in transaction for less than 5 s; not waiting on a lock) this many times and size its pool from the peak (0: from the one snapshot)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l interval -d 'Time between two samples' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l from -d 'Read the samples from a `watch --record` FILE instead of sampling (a day\'s peaks)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand advise" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s w -l warning -d 'WARNING when used slots reach this: 80% of the usable slots, 150 used, or -10 (10 or fewer left)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s c -l critical -d 'CRITICAL when used slots reach this (same forms as --warning)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l idle-warning -d 'WARNING when at least N sessions are idle for longer than --idle-age' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l idle-critical -d 'CRITICAL when at least N sessions are idle for longer than --idle-age' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l idle-age -d 'The age from which an idle session counts for --idle-warning and --idle-critical' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l idle-in-transaction-warning -d 'WARNING when the oldest idle-in-transaction session is at least this old [default: 5min, status\'s rule, unless a lower --idle-in-transaction-critical is given]' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l idle-in-transaction-critical -d 'CRITICAL when the oldest idle-in-transaction session is at least this old' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l unreachable -d 'The state of a target that cannot be reached' -r -f -a "critical\t'Exit 2: the server is down as far as its clients are concerned'
unknown\t'Exit 3: the check cannot tell (e.g. when a separate host check already alerts on outages)'"
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s t -l timeout -d 'Finish within this long, connecting and querying included, with the check\'s own line (a target without an answer by then is unreachable); the default stays inside Nagios\' and NRPE\'s 10 s' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l format -d 'Output format; --json is short for --format json' -r -f -a "nagios\t'One Nagios/Icinga plugin line with performance data (one more line per target with several)'
json\t'JSON: the overall state and every target\'s state, measurements and thresholds'
prometheus\t'Prometheus text format: the status gauges plus pgconn_check_status'"
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l output -d 'Write the output to FILE atomically instead of stdout (see `status --output`)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l leak-idle-age -d 'A (database, user, application) holding sessions idle longer than this ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l leak-min-sessions -d '... and at least this many of them is named as a possible leak (WARNING)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l leak-share -d 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand check" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l interval -d 'Time between samples (at least 100ms)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l count -d 'Stop after N samples (attempts while disconnected count too); default: until q or Ctrl-C' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l record -d 'Append each sample\'s working sessions per application to FILE (JSON lines) for `advise --from`' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l db -d 'Only sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l user -d 'Only sessions of this user (role)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l app -d 'Only sessions whose application_name matches' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l client -d 'Only sessions from this client address (or "local" for unix sockets)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l exclude-db -d 'Leave out sessions connected to this database' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l exclude-user -d 'Leave out sessions of this user' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l exclude-app -d 'Leave out sessions of this application' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l exclude-client -d 'Leave out sessions from this client address' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l by -d 'Group sessions by these keys. `process` is the client process\'s program on this host (Linux, from /proc and the kernel\'s socket tables; other users\' processes need root), with its pids' -r -f -a "database\t''
user\t''
application\t''
client\t''
state\t''
process\t''
statement\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l top -d 'Show the N largest groups (0 for all; watch also fits them to the terminal\'s height)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l warn-used -d 'WARNING when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l crit-used -d 'CRITICAL when this percent of the slots ordinary roles can use is taken' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l idle-in-transaction-age -d 'WARNING when a session has been idle in transaction longer than this' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l storm-share -d 'WARNING "connection storm" when more than this percent of the client sessions (at least 20) started in the last 10 seconds' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l leak-idle-age -d 'A (database, user, application) holding sessions idle longer than this ...' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l leak-min-sessions -d '... and at least this many of them is named as a possible leak (WARNING)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l leak-share -d 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand watch" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l listen -d 'Listen on ADDR: IP:PORT, [IPv6]:PORT, :PORT (every IPv4 interface) or an IP alone (port 8432). Repeatable. Default 127.0.0.1:8432. A non-loopback address without --web.config.file is warned about: the metrics carry role, database and application names' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l timeout-offset -d 'Taken off Prometheus\' scrape timeout (the X-Prometheus-Scrape-Timeout-Seconds header), so that the answer arrives before Prometheus gives up; the rest bounds connecting and querying every target of the scrape (at most --target-timeout, which applies alone without the header)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l log-level -d 'How much to log on stderr: error, warning (a line per target that could not be scraped), info (also start, stop and reloads) or debug (also every request)' -r -f -a "error\t''
warning\t''
info\t''
debug\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l metrics-by -d 'Add a label to pgconn_group_sessions: client (the client address; opt-in, for its cardinality)' -r -f -a "client\t'The client address of the sessions (`local` for a unix socket)'"
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l web.config.file -d 'exporter-toolkit\'s web configuration (YAML): tls_server_config (cert_file, key_file, client_ca_file, client_auth_type NoClientCert or RequireAndVerifyClientCert, min_version, max_version), basic_auth_users (bcrypt hashes) and http_server_config.headers. Other keys are refused. Read at start and again on SIGHUP (a bad file then keeps the one in use)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand exporter" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l leak -d 'Idle sessions of application `leaky-worker` to leave open' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l active -d 'Sessions running a long query' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l idle-in-transaction -d 'Sessions left idle in transaction' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l max-connections -d 'max_connections of the sandbox server' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l fill -d 'Then fill the server completely, to rehearse an outage: more leaky-worker sessions until ordinary roles are refused, then superuser sessions of runaway-admin until superusers are refused too ("sorry, too many clients already"). pgconn still gets in through a WAL sender slot'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand sandbox" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s h -l host -d 'Database server host or socket directory (PGHOST)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s p -l port -d 'Database server port (PGPORT)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s U -l username -d 'Database user name (PGUSER)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s d -l dbname -d 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l service -d 'Connection service name from pg_service.conf (PGSERVICE)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l connect-timeout -d 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l targets -d 'More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named target (labelled NAME; exporter\'s /probe?target=NAME); lines starting with # are comments (status, sessions, check, watch and exporter)' -r -F
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l jobs -d 'Query up to N targets at once when there are several (default 64): at most N connections are open at any time, attempts given up on (--target-timeout) included' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l target-timeout -d 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l break-glass -d 'When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot taken, or only the reserved ones left), connect through a WAL sender slot instead (replication=database; needs a role with REPLICATION). A role\'s or a database\'s CONNECTION LIMIT (also 53300, the server may have free slots) takes that route only with always. Default auto for status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets, Prometheus output and status --output; exporter refuses auto and always' -r -f -a "auto\t'Retry once through a WAL sender slot when the server refuses with 53300 because it is full'
never\t'Never use the emergency route'
always\t'Connect through a WAL sender slot straight away'"
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l fallback-user -d 'When the server refuses the user at its role\'s CONNECTION LIMIT, connect as this role instead (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the limited role\'s sessions by application and state in the error, so you see what to free. Every command that connects accepts it; nothing else is done as that role' -r
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l platform -d 'The managed platform the server runs on, instead of detecting it from the host name, the provider\'s settings and roles: its reserved slots, its admin sessions and its own commands follow. none: no platform (pgconn as on a self-hosted server)' -r -f -a "aws-rds\t''
aws-aurora\t''
cloud-sql\t''
azure-flexible\t''
supabase\t''
neon\t''
none\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t''
never\t''"
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s W -l password -d 'Force a password prompt'
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l json -d 'Print results as JSON (stable snake_case fields, ages in seconds)'
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -l show-sql -d 'Echo every SQL statement sent to the server on stderr'
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s '?' -l help -d 'Print help (use -? like psql; -h is the host)'
complete -c pgconn -n "__fish_pgconn_using_subcommand completions" -s V -l version -d 'Print version'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "status" -d 'How full the server is, sessions per state, idle ages and who holds the connections'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "sessions" -d 'List client sessions, longest in their state first'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "kill-idle" -d 'Terminate sessions idle for longer than a threshold: preview, confirm, re-check, log'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "kill" -d 'Terminate (or cancel the query of) chosen sessions: by pid, filters, state, age or --all'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "rescue" -d 'On the database host, when no connection gets in: terminate idle backends through the OS (SIGTERM)'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "tune" -d 'Show, set, reset and undo connection timeouts and limits (ALTER DATABASE / ROLE / SYSTEM)'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "advise" -d 'Findings with the exact fix: leaks, idle transactions, missing timeouts, pool sizes, PgBouncer'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "check" -d 'Nagios/Icinga check: one line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "watch" -d 'Keep watching: a full-screen view on a terminal, one timestamped line per sample otherwise'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "exporter" -d 'Serve Prometheus: /metrics for every target, /probe?target=NAME for one configured target'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "sandbox" -d 'Start a throwaway local server with a simulated connection leak'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and not __fish_seen_subcommand_from status sessions kill-idle kill rescue tune advise check watch exporter sandbox completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "show" -d 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "set" -d 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "reset" -d 'Remove settings from a database, a role or the whole server, after showing the plan'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "undo" -d 'Restore what the last tune change on this server replaced'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "history" -d 'List the changes recorded in the tune history'
complete -c pgconn -n "__fish_pgconn_using_subcommand help; and __fish_seen_subcommand_from tune" -f -a "presets" -d 'List the presets `tune set --preset` knows'
