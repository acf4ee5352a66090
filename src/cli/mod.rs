//! Every clap definition of pgconn: the global connection and output options and the shared filters,
//! grouping and thresholds (`common`), one file per subcommand, and DURATION parsing. Completions and man
//! pages are generated from [`command`]. The model below never sees these types: `convert` turns them into
//! its own option structs, once.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod advise;
mod check;
mod common;
pub mod completions;
pub mod convert;
mod duration;
mod exporter;
mod kill;
mod rescue;
mod sandbox;
mod sessions;
mod status;
mod tune;
mod watch;

pub use advise::AdviseArgs;
pub use check::{
    parse_capacity_threshold, CapacityThreshold, CheckArgs, CheckFormat, UnreachableState,
};
pub use common::{
    ColorChoice, ConnArgs, FilterArgs, GroupArgs, LeakThresholds, OutputArgs, StateArg, Thresholds,
};
pub use duration::{
    parse_age, parse_connect_timeout, parse_duration, parse_interval, parse_target_timeout,
    parse_wait,
};
pub use exporter::{parse_listen, ExporterArgs, LogLevelArg, MetricsBy};
pub use kill::{KillArgs, KillIdleArgs, KillSafety};
pub use rescue::{RescueArgs, RescueSafety};
pub use sandbox::{CompletionsArgs, SandboxArgs};
pub use sessions::SessionsArgs;
pub use status::{StatusArgs, StatusFormat};
pub use tune::{
    parse_setting_pair, TuneAction, TuneApplyArgs, TuneArgs, TuneHistoryArgs, TunePreset,
    TuneResetArgs, TuneScopeArgs, TuneSetArgs, TuneShowArgs, TuneUndoArgs,
};
pub use watch::WatchArgs;

/// Diagnose and fix PostgreSQL connection exhaustion.
///
/// Connection options follow psql: -h -p -U -d (a database name, a key=value conninfo or a postgres:// URI),
/// PG* environment variables, ~/.pgpass, pg_service.conf and sslmode.
///
/// DURATION values: 30s, 5m, 1h30m, 5min, 300000ms, 2d. A session age (--older-than, --idle-longer-than,
/// --running-longer-than, --connected-longer-than and the age thresholds) needs a unit: a bare number other
/// than 0 is refused. Months and years (M, months, y, years) are refused everywhere: 5M is five months in
/// humantime, write 5min. --wait, --interval and the timeouts read a bare number as seconds. `tune set`
/// values keep PostgreSQL's meaning, a bare number in the setting's unit.
#[derive(Debug, Parser)]
#[command(
    name = "pgconn",
    version,
    disable_help_flag = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// How full the server is, sessions per state, idle ages and who holds the connections
    Status(StatusArgs),
    /// List client sessions, longest in their state first
    #[command(visible_alias = "ps")]
    Sessions(SessionsArgs),
    /// Terminate sessions idle for longer than a threshold: preview, confirm, re-check, log
    KillIdle(KillIdleArgs),
    /// Terminate (or cancel the query of) chosen sessions: by pid, filters, state, age or --all
    Kill(KillArgs),
    /// On the database host, when no connection gets in: terminate idle backends through the OS (SIGTERM)
    #[command(
        long_about = RESCUE_ABOUT,
        mut_arg("app", |a| a.hide(true)),
        mut_arg("exclude_app", |a| a.hide(true))
    )]
    Rescue(RescueArgs),
    /// Show, set, reset and undo connection timeouts and limits (ALTER DATABASE / ROLE / SYSTEM)
    Tune(TuneArgs),
    /// Findings with the exact fix: leaks, idle transactions, missing timeouts, pool sizes, PgBouncer
    Advise(AdviseArgs),
    /// Nagios/Icinga check: one line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
    #[command(long_about = CHECK_ABOUT)]
    Check(CheckArgs),
    /// Keep watching: a full-screen view on a terminal, one timestamped line per sample otherwise
    #[command(long_about = WATCH_ABOUT)]
    Watch(WatchArgs),
    /// Serve Prometheus: /metrics for every target, /probe?target=NAME for one configured target
    #[command(long_about = EXPORTER_ABOUT)]
    Exporter(ExporterArgs),
    /// Start a throwaway local server with a simulated connection leak
    Sandbox(SandboxArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

const RESCUE_ABOUT: &str = "\
On the database host, when no connection gets in (not even through a WAL sender slot): terminate idle \
backends through the operating system, without a database connection. Sending SIGTERM to a backend is \
what pg_terminate_backend does; pgconn never sends SIGKILL (that makes the postmaster restart every \
session and run crash recovery).

Run as root or as the cluster's OS user, in the cluster's pid namespace (for a server in a container: \
inside the container; from the host rescue refuses and says how). The cluster is found by --pgdata (or \
$PGDATA), --pid, or as the only PostgreSQL server running here. Its postmaster's children are read from \
/proc: each backend's title (`postgres: [cluster_name: ]user database host(port) state`, kept current by \
update_process_title, on by default) gives its user, database, client and state, and the process start \
time how long it has been connected. Titles carry no application_name and no idle time, so a pool's \
healthy connections, an administrator's session and a leak look alike: rescue needs --user, --db or \
--client (or --all), and otherwise refuses and lists who holds the backends.

Only real backends: a process is one when it is the postmaster's child, runs the postmaster's own \
executable (the same file, by device and inode), was started after it and leads its own session (every \
postmaster child calls setsid at start). A program that merely looks like one (left behind by COPY ... TO \
PROGRAM and adopted by a postmaster that is PID 1 of a container) is another process, never a target. \
Not detectable: an orphan that runs a copy of the postgres binary and calls setsid itself.

Which titles are trusted: a backend applies a configuration reload only between commands, so a title \
may be stale when update_process_title was turned off and on again while the backend lived (one that \
started a query while titles were off says `idle` while the query runs). A title is trusted when (1) the \
backend connected after the last change of every configuration file and directory the server reads \
(their change times, which no user can set back): update_process_title was then on for its whole life; \
or (2) the kernel shows it blocked waiting for its client to send something (/proc/PID/syscall: in \
epoll_wait on the set that holds its client connection, accepted on one of the postmaster's own \
sockets), so no query runs; or (3) --trust-titles is given and the kernel does not tell this user (no \
ptrace access, e.g. root in a container without CAP_SYS_PTRACE). A title the kernel contradicts is never \
trusted. Other backends are left alone and listed with why, and the run exits 1. The cost: after any \
configuration change (an ALTER SYSTEM of any setting), older backends depend on (2); root always has it, \
the cluster's OS user has it unless the kernel restricts ptrace (Yama). Blind spots of (2), for backends \
older than the last change only: a backend also waits to read from its client while it reads COPY FROM \
STDIN data, between an extended-protocol Execute and its Sync, and when TLS reads during a write; and one \
idle in a transaction looks the same as one that is idle. Blind spots of (1): a wall clock stepped \
forward since the change, a network file system's cached change times, a directory renamed in place \
above the configuration files (files, include_dir directories and symbolic links on the way count). \
rescue refuses when update_process_title is off or \
a value PostgreSQL would not read as a boolean, when a configuration file or line cannot be read (read \
with the server's own rules: quoting, octal and backslash escapes, includes), and when a title shows no \
state (the setting was off when that backend started). It never touches the postmaster, auxiliary \
processes, WAL senders, autovacuum or background workers, and leaves alone any title it cannot read \
unambiguously (one that reads two ways, may have been cut short, or is not UTF-8; listed as such).

Like kill: a preview, --dry-run, a confirmation on a terminal (--yes otherwise), --log. Immediately before \
each SIGTERM the process is read again through a pidfd (Linux 5.3+): its start time, parent, executable, \
session and title, the configuration's change times, and the kernel's view where (2) is the evidence \
(its system call read first and last); so a pid reused by another process is never hit. The \
configuration itself is read again before each batch. As with pg_terminate_backend, a backend that turns active \
between that re-check and the signal is terminated: the window is that of one system call. Afterwards \
pgconn waits for the backends to exit (--wait), tries a normal connection (to the cluster's own socket \
and port unless -h/-p or PG* variables say otherwise) and prints the status line.";

const CHECK_ABOUT: &str = "\
Nagios/Icinga check: one line of plugin output with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, \
3 UNKNOWN.

Capacity (--warning, --critical) is measured against the slots ordinary roles can use: max_connections \
minus superuser_reserved_connections (and reserved_connections on PostgreSQL 16+). A threshold is a \
percent of those slots (80%), a count of used slots (150) or a negative count meaning slots left (-10); \
it fires when reached: 80% fires at 80% used, 150 at 150 used, -10 when 10 or fewer slots are left.

A possible connection leak is WARNING, by the rule status uses (one rule, the same verdict): a \
(database, user, application) holding at least --leak-min-sessions (10) sessions idle for longer than \
--leak-idle-age (10m), or that many idle sessions making up --leak-share (25%) of the usable slots; the \
line names the application. --idle-warning/--idle-critical add to it: they fire when at least that many \
sessions have been idle for longer than --idle-age, whatever application holds them; \
--idle-in-transaction-warning/-critical when the oldest idle-in-transaction session is at least that old. \
The session filters narrow these counts; capacity is always the whole server's.

A server that refuses the check's connection with SQLSTATE 53300 is CRITICAL, each cause with its \
error_kind: every slot taken (full), only the reserved slots left (reserved_only), the role's or the \
database's CONNECTION LIMIT reached (role_limit, database_limit). With --break-glass always, a WAL sender \
connection refused for want of a WAL sender slot (wal_senders_full) is UNKNOWN. A target \
that cannot be reached (connection refused, no answer within the timeout, starting up or shutting down) \
is CRITICAL, or UNKNOWN with --unreachable unknown. The whole check, connecting and querying every target \
included, ends within -t/--timeout (default 9s, inside the 10 s Nagios and NRPE give a plugin), with its \
own line. Other connection failures (authentication, a \
missing database) and failing queries are UNKNOWN: the check itself is misconfigured. Usage errors are \
UNKNOWN (exit 3) too.

With several targets the exit code is the worst state, the first line sums up and one more line per \
target gives its state. The exit code follows the state with every --format. --output writes the \
result whatever the state (an unreachable target is data too: pgconn_up 0, \
pgconn_scrape_error{kind=\"unreachable\"} 1, pgconn_check_status 2).";

const EXPORTER_ABOUT: &str = "\
Serve Prometheus over HTTP: GET /metrics collects every target (-d, --service, --targets) on request, \
labelled target; GET /probe?target=NAME collects one configured target, with no target label. NAME is a \
target's name from the targets file (a line `NAME: CONNINFO`), a service given with --service or \
service=NAME, or the host:port of exactly one single-host TCP target; anything else is answered 404 \
without connecting anywhere or resolving any name. / links both, /-/healthy says OK.

Each scrape opens one short connection per target and closes it; never a pool. At most one attempt per \
target is outstanding: a request for a target being scraped waits for that scrape and shares its \
result, and while an attempt given up on is still open (a server that accepted and does not answer) \
the target is answered as timed out without another connection. --jobs bounds every collection of the \
process together. A scrape ends by Prometheus' X-Prometheus-Scrape-Timeout-Seconds less \
--timeout-offset (at most --target-timeout, which applies alone without the header); pgconn's own \
statement_timeout and lock_timeout are set from what is left. A target that fails or runs out of time \
is pg_up 0, pgconn_up 0 and pgconn_scrape_error{kind} 1 (kind as error_kind: full, timeout, ...), with \
HTTP 200, and one line on stderr. The exporter never asks for a password and never takes the WAL sender \
route (--break-glass auto or always is refused).

SIGTERM or SIGINT: stop accepting, finish the requests in flight (at most 5 s), exit 0. SIGHUP: read \
--web.config.file again.";

const WATCH_ABOUT: &str = "\
Keep watching. On a terminal: a full-screen view refreshed in place with the status summary, the top \
groups and sparklines of used, idle and idle-in-transaction sessions over the window, with the change \
since the previous sample; q, Esc or Ctrl-C quits and restores the terminal. With several targets, one \
row and trend per target. The view fits the terminal: summary lines wrap at a word, a longer reason or \
error is cut with …, and the group table keeps one line per group (ACTIVE drops first, then long names \
are cut with …).

When stdout is not a terminal: one line per sample and target, e.g.
  2025-01-01T10:00:00Z 127.0.0.1:5432/postgres used=42/97 left=55 active=3 idle=36 idle_in_transaction=2 change=+1
With --json: one JSON object per sample and target (JSON Lines).

When a server goes away the view (or a line) says \"disconnected, retrying\", and pgconn reconnects with \
backoff (doubling from --interval up to 30s) instead of exiting.";

/// The clap command with psql's help convention applied to every subcommand: `-h` is the host, so help is
/// `--help` or `-?`.
pub fn command() -> clap::Command {
    fn psql_help(cmd: clap::Command) -> clap::Command {
        cmd.disable_help_flag(true).mut_subcommands(psql_help)
    }
    Cli::command().mut_subcommands(psql_help)
}

/// A command line that does not parse.
#[derive(Debug)]
pub enum Unparsed {
    /// `--help` or `--version`: clap's text, to be printed as it is (exit 0).
    Info(clap::Error),
    /// A usage error, on one line; `check` reports it as a plugin does (UNKNOWN, exit 3), every other
    /// command exits 2.
    Usage { line: String, check: bool },
}

/// Parse arguments (the first one is the program name).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, Unparsed>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let parsed = command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => Ok(cli),
        Err(e) if e.use_stderr() => Err(Unparsed::Usage {
            line: not_utf8(&args).unwrap_or_else(|| one_line(&e)),
            check: subcommand_name(&args).as_deref() == Some("check"),
        }),
        Err(e) => Err(Unparsed::Info(e)),
    }
}

/// The option whose value is not UTF-8 (clap's own message names none).
fn not_utf8(args: &[std::ffi::OsString]) -> Option<String> {
    let i = args.iter().skip(1).position(|a| a.to_str().is_none())? + 1;
    let arg = args[i].to_string_lossy();
    let flag = match arg.split_once('=') {
        Some((f, _)) if f.starts_with('-') => f.to_string(),
        _ => args
            .get(i - 1)
            .and_then(|p| p.to_str())
            .filter(|p| p.starts_with('-') && i > 1)
            .map(str::to_string)
            .unwrap_or_else(|| format!("argument {i}")),
    };
    Some(format!(
        "the value of {flag} is not valid UTF-8 ({})",
        arg.escape_debug()
    ))
}

/// clap's error on one line: its message, and its tips (how to pass a value that starts with `-`).
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    for tip in lines.filter_map(|l| l.strip_prefix("tip: ")) {
        out.push_str("; ");
        out.push_str(tip);
    }
    use clap::error::ErrorKind;
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        out.push_str(" (--help lists the options)");
    }
    out
}

/// The subcommand named on a command line, as far as clap can tell even when parsing fails.
fn subcommand_name(args: &[std::ffi::OsString]) -> Option<String> {
    command()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_thresholds_in_three_forms() {
        use CapacityThreshold::*;
        assert_eq!(parse_capacity_threshold("80%"), Ok(Percent(80.0)));
        assert_eq!(parse_capacity_threshold("99.5%"), Ok(Percent(99.5)));
        assert_eq!(parse_capacity_threshold("0%"), Ok(Percent(0.0)));
        assert_eq!(parse_capacity_threshold("150"), Ok(Used(150)));
        assert_eq!(parse_capacity_threshold("0"), Ok(Used(0)));
        assert_eq!(parse_capacity_threshold("-10"), Ok(Left(10)));
        assert_eq!(parse_capacity_threshold("-0"), Ok(Left(0)));
        assert_eq!(parse_capacity_threshold(" 12 "), Ok(Used(12)));
        for bad in [
            "", "%", "abc", "101%", "-5%x", "--3", "+3", "1.5", "-1.5", "80 %%", "-inf%",
        ] {
            assert!(
                parse_capacity_threshold(bad).is_err(),
                "{bad:?} must be refused"
            );
        }
        assert_eq!(Percent(80.0).to_string(), "80%");
        assert_eq!(Left(10).to_string(), "-10");
    }

    #[test]
    fn check_takes_negative_thresholds() {
        let cli =
            Cli::try_parse_from(["pgconn", "check", "-w", "-10", "--critical", "-2"]).unwrap();
        let Command::Check(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.warning, CapacityThreshold::Left(10));
        assert_eq!(a.critical, CapacityThreshold::Left(2));
    }

    #[test]
    fn clap_definitions_are_consistent() {
        command().debug_assert();
    }

    #[test]
    fn dash_h_is_host_and_dash_question_is_help() {
        let cli = Cli::try_parse_from(["pgconn", "-h", "db1", "-p", "5433", "status"]).unwrap();
        assert_eq!(cli.conn.host.as_deref(), Some("db1"));
        assert_eq!(cli.conn.port.as_deref(), Some("5433"));
        let cli = Cli::try_parse_from(["pgconn", "status", "-h", "db2", "-U", "me"]).unwrap();
        assert_eq!(cli.conn.host.as_deref(), Some("db2"));
        assert_eq!(cli.conn.username.as_deref(), Some("me"));
        let err = command()
            .try_get_matches_from(["pgconn", "status", "-?"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
