
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'pgconn' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'pgconn'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'pgconn' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'How full the server is, sessions per state, idle ages and who holds the connections')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'List client sessions, longest in their state first')
            [CompletionResult]::new('ps', 'ps', [CompletionResultType]::ParameterValue, 'List client sessions, longest in their state first')
            [CompletionResult]::new('kill-idle', 'kill-idle', [CompletionResultType]::ParameterValue, 'Terminate sessions idle for longer than a threshold: preview, confirm, re-check, log')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Terminate (or cancel the query of) chosen sessions: by pid, filters, state, age or --all')
            [CompletionResult]::new('tune', 'tune', [CompletionResultType]::ParameterValue, 'Show, set, reset and undo connection timeouts and limits (ALTER DATABASE / ROLE / SYSTEM)')
            [CompletionResult]::new('advise', 'advise', [CompletionResultType]::ParameterValue, 'Findings with the exact fix: leaks, idle transactions, missing timeouts, pool sizes, PgBouncer')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Nagios/Icinga check: one line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Keep watching: a full-screen view on a terminal, one timestamped line per sample otherwise')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Start a throwaway local server with a simulated connection leak')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgconn;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group sessions by these keys')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Show the N largest groups (0 for all)')
            [CompletionResult]::new('--warn-used', '--warn-used', [CompletionResultType]::ParameterName, 'WARNING when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--crit-used', '--crit-used', [CompletionResultType]::ParameterName, 'CRITICAL when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--idle-in-transaction-age', '--idle-in-transaction-age', [CompletionResultType]::ParameterName, 'WARNING when a session has been idle in transaction longer than this')
            [CompletionResult]::new('--leak-idle-age', '--leak-idle-age', [CompletionResultType]::ParameterName, 'A group holding sessions idle longer than this ...')
            [CompletionResult]::new('--leak-min-sessions', '--leak-min-sessions', [CompletionResultType]::ParameterName, '... and at least this many of them is named as a possible leak')
            [CompletionResult]::new('--leak-share', '--leak-share', [CompletionResultType]::ParameterName, 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; --json is short for --format json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the output to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename), e.g. for node_exporter''s textfile collector. A failed run leaves FILE as it was')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Also read this PgBouncer''s admin console (a conninfo or URI; dbname defaults to pgbouncer)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;sessions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only sessions in this state')
            [CompletionResult]::new('--idle-longer-than', '--idle-longer-than', [CompletionResultType]::ParameterName, 'Only sessions whose state has not changed for longer than this')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most N sessions (0 for all)')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;ps' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only sessions in this state')
            [CompletionResult]::new('--idle-longer-than', '--idle-longer-than', [CompletionResultType]::ParameterName, 'Only sessions whose state has not changed for longer than this')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most N sessions (0 for all)')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;kill-idle' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only sessions whose state has not changed for longer than this (30s, 5m, 1h30m)')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'States to act on (default: idle); repeat to combine, e.g. --state idle --state idle-in-transaction')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--protect-app', '--protect-app', [CompletionResultType]::ParameterName, 'Never touch sessions of this application (repeatable, `*` wildcards)')
            [CompletionResult]::new('--protect-user', '--protect-user', [CompletionResultType]::ParameterName, 'Never touch sessions of this user (repeatable, `*` wildcards)')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI) and leave them alone unless --include-pooler')
            [CompletionResult]::new('--if-more-than', '--if-more-than', [CompletionResultType]::ParameterName, 'Act only when more than N sessions match (otherwise report and exit 0)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Leave the N most recently active matching sessions of each (database, user, application) alone, re-checked when acting: if kept sessions ended meanwhile, fewer are terminated')
            [CompletionResult]::new('--max', '--max', [CompletionResultType]::ParameterName, 'Act on at most N sessions in this run (the longest in their state first)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for signalled sessions to end before reporting them as still present')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Append to FILE (created mode 0600) one JSON line per session before it is signalled, one with its outcome after, and a summary; nothing is signalled that could not be recorded first')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Sessions per terminating statement')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be done, change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when there is no terminal)')
            [CompletionResult]::new('--include-superusers', '--include-superusers', [CompletionResultType]::ParameterName, 'Also act on sessions of superusers (left alone by default)')
            [CompletionResult]::new('--include-listeners', '--include-listeners', [CompletionResultType]::ParameterName, 'Also act on sessions whose last statement was LISTEN (left alone by default: a terminated listener silently misses notifications)')
            [CompletionResult]::new('--include-lock-holders', '--include-lock-holders', [CompletionResultType]::ParameterName, 'Also act on sessions holding advisory locks (left alone by default: job queues, migration runners and leader elections hold them for as long as the session lives)')
            [CompletionResult]::new('--include-temp-holders', '--include-temp-holders', [CompletionResultType]::ParameterName, 'Also act on sessions with temporary tables (left alone by default: their data goes with them; detected in the connected database on PostgreSQL 16+)')
            [CompletionResult]::new('--include-pooler', '--include-pooler', [CompletionResultType]::ParameterName, 'Also act on PgBouncer''s server connections (in session pooling each one carries a live client)')
            [CompletionResult]::new('--log-queries', '--log-queries', [CompletionResultType]::ParameterName, 'Also record each session''s last query in the --log file, with its string literals masked')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;kill' {
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'This backend pid (repeatable)')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only sessions in this state (repeatable)')
            [CompletionResult]::new('--running-longer-than', '--running-longer-than', [CompletionResultType]::ParameterName, 'Only active sessions whose current query has run longer than this')
            [CompletionResult]::new('--idle-longer-than', '--idle-longer-than', [CompletionResultType]::ParameterName, 'Only idle sessions (any idle state) unchanged for longer than this')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--protect-app', '--protect-app', [CompletionResultType]::ParameterName, 'Never touch sessions of this application (repeatable, `*` wildcards)')
            [CompletionResult]::new('--protect-user', '--protect-user', [CompletionResultType]::ParameterName, 'Never touch sessions of this user (repeatable, `*` wildcards)')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Mark the server connections of this PgBouncer (its admin console: a conninfo or URI) and leave them alone unless --include-pooler')
            [CompletionResult]::new('--if-more-than', '--if-more-than', [CompletionResultType]::ParameterName, 'Act only when more than N sessions match (otherwise report and exit 0)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Leave the N most recently active matching sessions of each (database, user, application) alone, re-checked when acting: if kept sessions ended meanwhile, fewer are terminated')
            [CompletionResult]::new('--max', '--max', [CompletionResultType]::ParameterName, 'Act on at most N sessions in this run (the longest in their state first)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for signalled sessions to end before reporting them as still present')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Append to FILE (created mode 0600) one JSON line per session before it is signalled, one with its outcome after, and a summary; nothing is signalled that could not be recorded first')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Sessions per terminating statement')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--cancel', '--cancel', [CompletionResultType]::ParameterName, 'Cancel the running query (pg_cancel_backend) and keep the session, instead of terminating it')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every client session but pgconn''s own (still previewed and confirmed)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be done, change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when there is no terminal)')
            [CompletionResult]::new('--include-superusers', '--include-superusers', [CompletionResultType]::ParameterName, 'Also act on sessions of superusers (left alone by default)')
            [CompletionResult]::new('--include-listeners', '--include-listeners', [CompletionResultType]::ParameterName, 'Also act on sessions whose last statement was LISTEN (left alone by default: a terminated listener silently misses notifications)')
            [CompletionResult]::new('--include-lock-holders', '--include-lock-holders', [CompletionResultType]::ParameterName, 'Also act on sessions holding advisory locks (left alone by default: job queues, migration runners and leader elections hold them for as long as the session lives)')
            [CompletionResult]::new('--include-temp-holders', '--include-temp-holders', [CompletionResultType]::ParameterName, 'Also act on sessions with temporary tables (left alone by default: their data goes with them; detected in the connected database on PostgreSQL 16+)')
            [CompletionResult]::new('--include-pooler', '--include-pooler', [CompletionResultType]::ParameterName, 'Also act on PgBouncer''s server connections (in session pooling each one carries a live client)')
            [CompletionResult]::new('--log-queries', '--log-queries', [CompletionResultType]::ParameterName, 'Also record each session''s last query in the --log file, with its string literals masked')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'Show the values sessions in this database get')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Show the values sessions of this role get (with --database: of this role in that database)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Remove settings from a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore what the last tune change on this server replaced')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the changes recorded in the tune history')
            [CompletionResult]::new('presets', 'presets', [CompletionResultType]::ParameterValue, 'List the presets `tune set --preset` knows')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgconn;tune;show' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'Show the values sessions in this database get')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Show the values sessions of this role get (with --database: of this role in that database)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;set' {
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'Start from a preset (`pgconn tune presets` lists them); NAME=VALUE pairs win over it')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'ALTER DATABASE DB SET ...: sessions in this database')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'ALTER ROLE ROLE SET ...: sessions of this role')
            [CompletionResult]::new('--in-database', '--in-database', [CompletionResultType]::ParameterName, 'With --role: ALTER ROLE ROLE IN DATABASE DB SET ...')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'ALTER SYSTEM SET ... then reload: the whole server')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and the exact SQL, change nothing')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;reset' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'ALTER DATABASE DB SET ...: sessions in this database')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'ALTER ROLE ROLE SET ...: sessions of this role')
            [CompletionResult]::new('--in-database', '--in-database', [CompletionResultType]::ParameterName, 'With --role: ALTER ROLE ROLE IN DATABASE DB SET ...')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every connection setting (those `tune show` lists) stored in the scope')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'ALTER SYSTEM SET ... then reload: the whole server')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and the exact SQL, change nothing')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;undo' {
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Undo even when the scope no longer stores what pgconn set (someone changed it since); the plan names both values')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and the exact SQL, change nothing')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;history' {
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or ~/.local/state/pgconn/tune-history.jsonl)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;presets' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;tune;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Remove settings from a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore what the last tune change on this server replaced')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the changes recorded in the tune history')
            [CompletionResult]::new('presets', 'presets', [CompletionResultType]::ParameterValue, 'List the presets `tune set --preset` knows')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgconn;tune;help;show' {
            break
        }
        'pgconn;tune;help;set' {
            break
        }
        'pgconn;tune;help;reset' {
            break
        }
        'pgconn;tune;help;undo' {
            break
        }
        'pgconn;tune;help;history' {
            break
        }
        'pgconn;tune;help;presets' {
            break
        }
        'pgconn;tune;help;help' {
            break
        }
        'pgconn;advise' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--warn-used', '--warn-used', [CompletionResultType]::ParameterName, 'WARNING when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--crit-used', '--crit-used', [CompletionResultType]::ParameterName, 'CRITICAL when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--idle-in-transaction-age', '--idle-in-transaction-age', [CompletionResultType]::ParameterName, 'WARNING when a session has been idle in transaction longer than this')
            [CompletionResult]::new('--leak-idle-age', '--leak-idle-age', [CompletionResultType]::ParameterName, 'A group holding sessions idle longer than this ...')
            [CompletionResult]::new('--leak-min-sessions', '--leak-min-sessions', [CompletionResultType]::ParameterName, '... and at least this many of them is named as a possible leak')
            [CompletionResult]::new('--leak-share', '--leak-share', [CompletionResultType]::ParameterName, 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are')
            [CompletionResult]::new('--pgbouncer', '--pgbouncer', [CompletionResultType]::ParameterName, 'Also read this PgBouncer''s admin console (a conninfo or URI; dbname defaults to pgbouncer)')
            [CompletionResult]::new('--headroom', '--headroom', [CompletionResultType]::ParameterName, 'Share of the usable slots the suggested pool sizes leave free')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;check' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'WARNING when used slots reach this: 80% of the usable slots, 150 used, or -10 (10 or fewer left)')
            [CompletionResult]::new('--warning', '--warning', [CompletionResultType]::ParameterName, 'WARNING when used slots reach this: 80% of the usable slots, 150 used, or -10 (10 or fewer left)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'CRITICAL when used slots reach this (same forms as --warning)')
            [CompletionResult]::new('--critical', '--critical', [CompletionResultType]::ParameterName, 'CRITICAL when used slots reach this (same forms as --warning)')
            [CompletionResult]::new('--idle-warning', '--idle-warning', [CompletionResultType]::ParameterName, 'WARNING when at least N sessions are idle for longer than --idle-age')
            [CompletionResult]::new('--idle-critical', '--idle-critical', [CompletionResultType]::ParameterName, 'CRITICAL when at least N sessions are idle for longer than --idle-age')
            [CompletionResult]::new('--idle-age', '--idle-age', [CompletionResultType]::ParameterName, 'The age from which an idle session counts for --idle-warning and --idle-critical')
            [CompletionResult]::new('--idle-in-transaction-warning', '--idle-in-transaction-warning', [CompletionResultType]::ParameterName, 'WARNING when the oldest idle-in-transaction session is at least this old')
            [CompletionResult]::new('--idle-in-transaction-critical', '--idle-in-transaction-critical', [CompletionResultType]::ParameterName, 'CRITICAL when the oldest idle-in-transaction session is at least this old')
            [CompletionResult]::new('--unreachable', '--unreachable', [CompletionResultType]::ParameterName, 'The state of a target that cannot be reached')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Finish within this long, connecting and querying included, with the check''s own line (a target without an answer by then is unreachable); the default stays inside Nagios'' and NRPE''s 10 s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Finish within this long, connecting and querying included, with the check''s own line (a target without an answer by then is unreachable); the default stays inside Nagios'' and NRPE''s 10 s')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; --json is short for --format json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the output to FILE atomically instead of stdout (see `status --output`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;watch' {
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between samples (at least 100ms)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after N samples (attempts while disconnected count too); default: until q or Ctrl-C')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Only sessions connected to this database')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sessions of this user (role)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only sessions whose application_name matches')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only sessions from this client address (or "local" for unix sockets)')
            [CompletionResult]::new('--exclude-db', '--exclude-db', [CompletionResultType]::ParameterName, 'Leave out sessions connected to this database')
            [CompletionResult]::new('--exclude-user', '--exclude-user', [CompletionResultType]::ParameterName, 'Leave out sessions of this user')
            [CompletionResult]::new('--exclude-app', '--exclude-app', [CompletionResultType]::ParameterName, 'Leave out sessions of this application')
            [CompletionResult]::new('--exclude-client', '--exclude-client', [CompletionResultType]::ParameterName, 'Leave out sessions from this client address')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group sessions by these keys')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Show the N largest groups (fitted to the terminal''s height)')
            [CompletionResult]::new('--warn-used', '--warn-used', [CompletionResultType]::ParameterName, 'WARNING when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--crit-used', '--crit-used', [CompletionResultType]::ParameterName, 'CRITICAL when this percent of the slots ordinary roles can use is taken')
            [CompletionResult]::new('--idle-in-transaction-age', '--idle-in-transaction-age', [CompletionResultType]::ParameterName, 'WARNING when a session has been idle in transaction longer than this')
            [CompletionResult]::new('--leak-idle-age', '--leak-idle-age', [CompletionResultType]::ParameterName, 'A group holding sessions idle longer than this ...')
            [CompletionResult]::new('--leak-min-sessions', '--leak-min-sessions', [CompletionResultType]::ParameterName, '... and at least this many of them is named as a possible leak')
            [CompletionResult]::new('--leak-share', '--leak-share', [CompletionResultType]::ParameterName, 'A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable slots is named as a possible leak, however young they are')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;sandbox' {
            [CompletionResult]::new('--leak', '--leak', [CompletionResultType]::ParameterName, 'Idle sessions of application `leaky-worker` to leave open')
            [CompletionResult]::new('--active', '--active', [CompletionResultType]::ParameterName, 'Sessions running a long query')
            [CompletionResult]::new('--idle-in-transaction', '--idle-in-transaction', [CompletionResultType]::ParameterName, 'Sessions left idle in transaction')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'max_connections of the sandbox server')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Database server host or socket directory (PGHOST)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Database server port (PGPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Database user name (PGUSER)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Connection service name from pg_service.conf (PGSERVICE)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments (status, sessions, check and watch)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Query up to N targets at once when there are several (default 32): at most N connections are open at any time, attempts given up on (--target-timeout) included')
            [CompletionResult]::new('--target-timeout', '--target-timeout', [CompletionResultType]::ParameterName, 'With several targets, give up on one that has not answered after this long, connecting and querying included (default 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Force a password prompt')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON (stable snake_case fields, ages in seconds)')
            [CompletionResult]::new('--show-sql', '--show-sql', [CompletionResultType]::ParameterName, 'Echo every SQL statement sent to the server on stderr')
            [CompletionResult]::new('-?', '-?', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (use -? like psql; -h is the host)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgconn;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'How full the server is, sessions per state, idle ages and who holds the connections')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'List client sessions, longest in their state first')
            [CompletionResult]::new('kill-idle', 'kill-idle', [CompletionResultType]::ParameterValue, 'Terminate sessions idle for longer than a threshold: preview, confirm, re-check, log')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Terminate (or cancel the query of) chosen sessions: by pid, filters, state, age or --all')
            [CompletionResult]::new('tune', 'tune', [CompletionResultType]::ParameterValue, 'Show, set, reset and undo connection timeouts and limits (ALTER DATABASE / ROLE / SYSTEM)')
            [CompletionResult]::new('advise', 'advise', [CompletionResultType]::ParameterValue, 'Findings with the exact fix: leaks, idle transactions, missing timeouts, pool sizes, PgBouncer')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Nagios/Icinga check: one line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Keep watching: a full-screen view on a terminal, one timestamped line per sample otherwise')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Start a throwaway local server with a simulated connection leak')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgconn;help;status' {
            break
        }
        'pgconn;help;sessions' {
            break
        }
        'pgconn;help;kill-idle' {
            break
        }
        'pgconn;help;kill' {
            break
        }
        'pgconn;help;tune' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Connection settings: value, unit, source, restart needed, and a recommendation (the default)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set NAME=VALUE for a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Remove settings from a database, a role or the whole server, after showing the plan')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore what the last tune change on this server replaced')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the changes recorded in the tune history')
            [CompletionResult]::new('presets', 'presets', [CompletionResultType]::ParameterValue, 'List the presets `tune set --preset` knows')
            break
        }
        'pgconn;help;tune;show' {
            break
        }
        'pgconn;help;tune;set' {
            break
        }
        'pgconn;help;tune;reset' {
            break
        }
        'pgconn;help;tune;undo' {
            break
        }
        'pgconn;help;tune;history' {
            break
        }
        'pgconn;help;tune;presets' {
            break
        }
        'pgconn;help;advise' {
            break
        }
        'pgconn;help;check' {
            break
        }
        'pgconn;help;watch' {
            break
        }
        'pgconn;help;sandbox' {
            break
        }
        'pgconn;help;completions' {
            break
        }
        'pgconn;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
