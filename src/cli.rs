//! Every clap definition of pgconn: global connection and output options, shared session filters and one
//! argument struct per subcommand. Completions and man pages are generated from [`command`].

use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Diagnose and fix PostgreSQL connection exhaustion.
///
/// Connection options follow psql: -h -p -U -d (a database name, a key=value conninfo or a postgres:// URI),
/// PG* environment variables, ~/.pgpass, pg_service.conf and sslmode.
///
/// DURATION values: 30s, 5m, 1h30m, 5min, 300000ms, 2d; a bare number is seconds (pgconn's own options;
/// `tune set` values keep PostgreSQL's meaning, a bare number in the setting's unit).
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

/// How to reach the server (psql's options and meaning).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnArgs {
    /// Database server host or socket directory (PGHOST)
    #[arg(short = 'h', long, global = true, value_name = "HOSTNAME")]
    pub host: Option<String>,

    /// Database server port (PGPORT)
    #[arg(short = 'p', long, global = true, value_name = "PORT")]
    pub port: Option<String>,

    /// Database user name (PGUSER)
    #[arg(short = 'U', long = "username", global = true, value_name = "USERNAME")]
    pub username: Option<String>,

    /// Database name, or a whole conninfo string or postgres:// URI (PGDATABASE)
    #[arg(
        short = 'd',
        long = "dbname",
        global = true,
        value_name = "DBNAME|CONNINFO"
    )]
    pub dbname: Vec<String>,

    /// Connection service name from pg_service.conf (PGSERVICE)
    #[arg(long, global = true, value_name = "NAME")]
    pub service: Vec<String>,

    /// Force a password prompt
    #[arg(short = 'W', long = "password", global = true)]
    pub password_prompt: bool,

    /// Give up connecting after this long (PGCONNECT_TIMEOUT; default 10s)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_connect_timeout)]
    pub connect_timeout: Option<Duration>,

    /// More targets, one per line: a conninfo, URI or service=NAME; lines starting with # are comments
    /// (status, sessions, check and watch)
    #[arg(long, global = true, value_name = "FILE")]
    pub targets: Option<std::path::PathBuf>,

    /// Query up to N targets at once when there are several (default 32): at most N connections are open at
    /// any time, attempts given up on (--target-timeout) included
    #[arg(long, global = true, value_name = "N")]
    pub jobs: Option<usize>,

    /// With several targets, give up on one that has not answered after this long, connecting and
    /// querying included (default 30s)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_target_timeout)]
    pub target_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb
    #[default]
    Auto,
    Always,
    Never,
}

impl From<ColorChoice> for crate::render::ColorWhen {
    fn from(c: ColorChoice) -> Self {
        match c {
            ColorChoice::Auto => crate::render::ColorWhen::Auto,
            ColorChoice::Always => crate::render::ColorWhen::Always,
            ColorChoice::Never => crate::render::ColorWhen::Never,
        }
    }
}

/// Where results go and how they look.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output options")]
pub struct OutputArgs {
    /// Print results as JSON (stable snake_case fields, ages in seconds)
    #[arg(long, global = true)]
    pub json: bool,

    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Echo every SQL statement sent to the server on stderr
    #[arg(long, global = true)]
    pub show_sql: bool,

    /// Print help (use -? like psql; -h is the host)
    #[arg(short = '?', long = "help", global = true, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// Which sessions to look at. `*` is a wildcard; each option may be repeated.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Session filters")]
pub struct FilterArgs {
    /// Only sessions connected to this database
    #[arg(long = "db", value_name = "PATTERN")]
    pub db: Vec<String>,

    /// Only sessions of this user (role)
    #[arg(long, value_name = "PATTERN")]
    pub user: Vec<String>,

    /// Only sessions whose application_name matches
    #[arg(long, value_name = "PATTERN")]
    pub app: Vec<String>,

    /// Only sessions from this client address (or "local" for unix sockets)
    #[arg(long, value_name = "PATTERN")]
    pub client: Vec<String>,

    /// Leave out sessions connected to this database
    #[arg(long, value_name = "PATTERN")]
    pub exclude_db: Vec<String>,

    /// Leave out sessions of this user
    #[arg(long, value_name = "PATTERN")]
    pub exclude_user: Vec<String>,

    /// Leave out sessions of this application
    #[arg(long, value_name = "PATTERN")]
    pub exclude_app: Vec<String>,

    /// Leave out sessions from this client address
    #[arg(long, value_name = "PATTERN")]
    pub exclude_client: Vec<String>,
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
    /// Start a throwaway local server with a simulated connection leak
    Sandbox(SandboxArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// A grouping key of `status --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, PartialOrd, Ord)]
pub enum GroupKey {
    Database,
    User,
    Application,
    Client,
    State,
}

impl GroupKey {
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Database => "database",
            GroupKey::User => "user",
            GroupKey::Application => "application",
            GroupKey::Client => "client",
            GroupKey::State => "state",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// Group sessions by these keys
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "database,user,application"
    )]
    pub by: Vec<GroupKey>,

    /// Show the N largest groups (0 for all)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,

    #[command(flatten)]
    pub thresholds: Thresholds,

    /// Output format; --json is short for --format json
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<StatusFormat>,

    /// Write the output to FILE instead of stdout, atomically (a temporary file in the same directory,
    /// then a rename), e.g. for node_exporter's textfile collector. A failed run leaves FILE as it was
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Also read this PgBouncer's admin console (a conninfo or URI; dbname defaults to pgbouncer)
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub thresholds: Thresholds,

    /// Also read this PgBouncer's admin console (a conninfo or URI; dbname defaults to pgbouncer)
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,

    /// Share of the usable slots the suggested pool sizes leave free
    #[arg(long, default_value_t = 20.0, value_name = "PERCENT")]
    pub headroom: f64,
}

/// When the verdict turns WARNING or CRITICAL.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Verdict thresholds")]
pub struct Thresholds {
    /// WARNING when this percent of the slots ordinary roles can use is taken
    #[arg(long, default_value_t = 80.0, value_name = "PERCENT")]
    pub warn_used: f64,

    /// CRITICAL when this percent of the slots ordinary roles can use is taken
    #[arg(long, default_value_t = 95.0, value_name = "PERCENT")]
    pub crit_used: f64,

    /// WARNING when a session has been idle in transaction longer than this
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_age)]
    pub idle_in_transaction_age: Duration,

    /// A group holding sessions idle longer than this ...
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_age)]
    pub leak_idle_age: Duration,

    /// ... and at least this many of them is named as a possible leak
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub leak_min_sessions: usize,

    /// A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable
    /// slots is named as a possible leak, however young they are
    #[arg(long, default_value_t = 25.0, value_name = "PERCENT")]
    pub leak_share: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum StateArg {
    Active,
    Idle,
    #[value(
        name = "idle-in-transaction",
        alias = "idle_in_transaction",
        alias = "idle in transaction"
    )]
    IdleInTransaction,
    #[value(
        name = "idle-in-transaction-aborted",
        alias = "idle_in_transaction_aborted",
        alias = "idle in transaction (aborted)"
    )]
    IdleInTransactionAborted,
    #[value(alias = "fastpath_function_call", alias = "fastpath function call")]
    Fastpath,
    Disabled,
}

impl StateArg {
    /// The value pg_stat_activity.state has for this state.
    pub fn pg_state(self) -> &'static str {
        match self {
            StateArg::Active => "active",
            StateArg::Idle => "idle",
            StateArg::IdleInTransaction => "idle in transaction",
            StateArg::IdleInTransactionAborted => "idle in transaction (aborted)",
            StateArg::Fastpath => "fastpath function call",
            StateArg::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// Only sessions in this state
    #[arg(long, value_enum)]
    pub state: Vec<StateArg>,

    /// Only sessions whose state has not changed for longer than this
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_longer_than: Option<Duration>,

    /// Show at most N sessions (0 for all)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,

    /// Every column in full. Otherwise, on a terminal narrower than the table, WAIT, XACT, CLIENT and
    /// DATABASE drop first (in that order) and long cells are cut with …; piped output is never fitted
    #[arg(short = 'w', long)]
    pub wide: bool,

    /// Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,
}

/// `pgconn tune` alone shows the connection settings (like `tune show`).
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    #[command(subcommand)]
    pub action: Option<TuneAction>,

    #[command(flatten)]
    pub show: TuneShowArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TuneAction {
    /// Connection settings: value, unit, source, restart needed, and a recommendation (the default)
    Show(TuneShowArgs),
    /// Set NAME=VALUE for a database, a role or the whole server, after showing the plan
    Set(TuneSetArgs),
    /// Remove settings from a database, a role or the whole server, after showing the plan
    Reset(TuneResetArgs),
    /// Restore what the last tune change on this server replaced
    Undo(TuneUndoArgs),
    /// List the changes recorded in the tune history
    History(TuneHistoryArgs),
    /// List the presets `tune set --preset` knows
    Presets,
}

#[derive(Debug, Clone, Default, Args)]
pub struct TuneShowArgs {
    /// Show the values sessions in this database get
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,

    /// Show the values sessions of this role get (with --database: of this role in that database)
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,

    /// Every column in full. Otherwise, on a terminal narrower than the table, RESTART and SOURCE drop
    /// first and long cells are cut with …
    #[arg(short = 'w', long)]
    pub wide: bool,
}

/// Where a change goes: exactly one of --database, --role (optionally --in-database) or --system.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Scope (one is required)")]
#[command(group(clap::ArgGroup::new("tune_scope").required(true).args(["database", "role", "system"])))]
pub struct TuneScopeArgs {
    /// ALTER DATABASE DB SET ...: sessions in this database
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,

    /// ALTER ROLE ROLE SET ...: sessions of this role
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,

    /// With --role: ALTER ROLE ROLE IN DATABASE DB SET ...
    #[arg(long, value_name = "DB", requires = "role")]
    pub in_database: Option<String>,

    /// ALTER SYSTEM SET ... then reload: the whole server
    #[arg(long)]
    pub system: bool,
}

/// Plan, confirmation and history options of tune set / reset / undo.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Plan and confirmation")]
pub struct TuneApplyArgs {
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show the plan and the exact SQL, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or
    /// ~/.local/state/pgconn/tune-history.jsonl)
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
}

/// A named set of values for `tune set --preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TunePreset {
    /// idle_in_transaction_session_timeout 5min, TCP keepalives, client_connection_check_interval
    LeakGuard,
    /// idle_in_transaction_session_timeout 5min, statement_timeout 30s
    Runbook,
}

#[derive(Debug, Clone, Args)]
pub struct TuneSetArgs {
    /// Settings to change, e.g. statement_timeout=30s idle_in_transaction_session_timeout=5m (each name once)
    #[arg(value_name = "NAME=VALUE", value_parser = parse_setting_pair)]
    pub pairs: Vec<(String, String)>,

    /// Start from a preset (`pgconn tune presets` lists them); NAME=VALUE pairs win over it
    #[arg(long, value_enum, value_name = "NAME")]
    pub preset: Option<TunePreset>,

    #[command(flatten)]
    pub scope: TuneScopeArgs,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TuneResetArgs {
    /// Settings to remove from the scope
    #[arg(value_name = "NAME", required_unless_present = "all")]
    pub names: Vec<String>,

    /// Every connection setting (those `tune show` lists) stored in the scope
    #[arg(long, conflicts_with = "names")]
    pub all: bool,

    #[command(flatten)]
    pub scope: TuneScopeArgs,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TuneUndoArgs {
    /// Undo even when the scope no longer stores what pgconn set (someone changed it since); the plan
    /// names both values
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TuneHistoryArgs {
    /// History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or
    /// ~/.local/state/pgconn/tune-history.jsonl)
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
}

/// `NAME=VALUE` of `tune set`; the name is lower-cased (PostgreSQL setting names are case-insensitive).
pub fn parse_setting_pair(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE (e.g. statement_timeout=30s)"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{s:?} has no setting name before '='"));
    }
    Ok((name.to_ascii_lowercase(), value.to_string()))
}

/// States `kill-idle` may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum IdleStateArg {
    Idle,
    #[value(
        name = "idle-in-transaction",
        alias = "idle_in_transaction",
        alias = "idle in transaction"
    )]
    IdleInTransaction,
    #[value(
        name = "idle-in-transaction-aborted",
        alias = "idle_in_transaction_aborted",
        alias = "idle in transaction (aborted)"
    )]
    IdleInTransactionAborted,
}

impl From<IdleStateArg> for StateArg {
    fn from(s: IdleStateArg) -> StateArg {
        match s {
            IdleStateArg::Idle => StateArg::Idle,
            IdleStateArg::IdleInTransaction => StateArg::IdleInTransaction,
            IdleStateArg::IdleInTransactionAborted => StateArg::IdleInTransactionAborted,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct KillIdleArgs {
    /// Only sessions whose state has not changed for longer than this (30s, 5m, 1h30m)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Duration,

    /// States to act on (default: idle); repeat to combine, e.g. --state idle --state idle-in-transaction
    #[arg(long, value_enum)]
    pub state: Vec<IdleStateArg>,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub safety: KillSafety,

    /// Every column of the preview in full (see `sessions --wide`)
    #[arg(short = 'w', long)]
    pub wide: bool,
}

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// This backend pid (repeatable)
    #[arg(long, value_name = "PID")]
    pub pid: Vec<i32>,

    /// Only sessions in this state (repeatable)
    #[arg(long, value_enum)]
    pub state: Vec<StateArg>,

    /// Only active sessions whose current query has run longer than this
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub running_longer_than: Option<Duration>,

    /// Only idle sessions (any idle state) unchanged for longer than this
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_longer_than: Option<Duration>,

    /// Cancel the running query (pg_cancel_backend) and keep the session, instead of terminating it
    #[arg(long)]
    pub cancel: bool,

    /// Every client session but pgconn's own (still previewed and confirmed)
    #[arg(long, conflicts_with = "pid")]
    pub all: bool,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub safety: KillSafety,

    /// Every column of the preview in full (see `sessions --wide`)
    #[arg(short = 'w', long)]
    pub wide: bool,
}

/// Guards shared by `kill` and `kill-idle`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Safety")]
pub struct KillSafety {
    /// Show what would be done, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Also act on sessions of superusers (left alone by default)
    #[arg(long)]
    pub include_superusers: bool,

    /// Never touch sessions of this application (repeatable, `*` wildcards)
    #[arg(long, value_name = "PATTERN")]
    pub protect_app: Vec<String>,

    /// Never touch sessions of this user (repeatable, `*` wildcards)
    #[arg(long, value_name = "PATTERN")]
    pub protect_user: Vec<String>,

    /// Also act on sessions whose last statement was LISTEN (left alone by default: a terminated listener
    /// silently misses notifications)
    #[arg(long)]
    pub include_listeners: bool,

    /// Also act on sessions holding advisory locks (left alone by default: job queues, migration runners
    /// and leader elections hold them for as long as the session lives)
    #[arg(long)]
    pub include_lock_holders: bool,

    /// Also act on sessions with temporary tables (left alone by default: their data goes with them;
    /// detected in the connected database on PostgreSQL 16+)
    #[arg(long)]
    pub include_temp_holders: bool,

    /// Mark the server connections of this PgBouncer (its admin console: a conninfo or URI) and leave
    /// them alone unless --include-pooler
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,

    /// Also act on PgBouncer's server connections (in session pooling each one carries a live client)
    #[arg(long, requires = "pgbouncer")]
    pub include_pooler: bool,

    /// Act only when more than N sessions match (otherwise report and exit 0)
    #[arg(long, value_name = "N")]
    pub if_more_than: Option<usize>,

    /// Leave the N most recently active matching sessions of each (database, user, application) alone,
    /// re-checked when acting: if kept sessions ended meanwhile, fewer are terminated
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Act on at most N sessions in this run (the longest in their state first)
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,

    /// How long to wait for signalled sessions to end before reporting them as still present
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_wait)]
    pub wait: Duration,

    /// Append to FILE (created mode 0600) one JSON line per session before it is signalled, one with its
    /// outcome after, and a summary; nothing is signalled that could not be recorded first
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,

    /// Also record each session's last query in the --log file, with its string literals masked
    #[arg(long, requires = "log")]
    pub log_queries: bool,

    /// Sessions per terminating statement
    #[arg(long, default_value_t = 1000, value_name = "N", hide = true)]
    pub batch_size: usize,
}

impl Default for KillSafety {
    /// The command-line defaults, with `--yes` (for library callers and tests).
    fn default() -> Self {
        KillSafety {
            dry_run: false,
            yes: true,
            include_superusers: false,
            protect_app: Vec::new(),
            protect_user: Vec::new(),
            include_listeners: false,
            include_lock_holders: false,
            include_temp_holders: false,
            pgbouncer: None,
            include_pooler: false,
            if_more_than: None,
            keep: None,
            max: None,
            wait: Duration::from_secs(5),
            log: None,
            log_queries: false,
            batch_size: 1000,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Idle sessions of application `leaky-worker` to leave open
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub leak: usize,

    /// Sessions running a long query
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub active: usize,

    /// Sessions left idle in transaction
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub idle_in_transaction: usize,

    /// max_connections of the sandbox server
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_connections: u32,

    /// Run `pgconn ARGS...` against the sandbox, then remove it
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How `status` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Tables for people
    Table,
    /// JSON (an array of per-target results with several targets)
    Json,
    /// Prometheus text exposition format (gauges named pgconn_*)
    Prometheus,
}

/// How `check` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One Nagios/Icinga plugin line with performance data (one more line per target with several)
    Nagios,
    /// JSON: the overall state and every target's state, measurements and thresholds
    Json,
    /// Prometheus text format: the status gauges plus pgconn_check_status
    Prometheus,
}

/// The state `check` gives a target it cannot reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnreachableState {
    /// Exit 2: the server is down as far as its clients are concerned
    Critical,
    /// Exit 3: the check cannot tell (e.g. when a separate host check already alerts on outages)
    Unknown,
}

const CHECK_ABOUT: &str = "\
Nagios/Icinga check: one line of plugin output with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, \
3 UNKNOWN.

Capacity (--warning, --critical) is measured against the slots ordinary roles can use: max_connections \
minus superuser_reserved_connections (and reserved_connections on PostgreSQL 16+). A threshold is a \
percent of those slots (80%), a count of used slots (150) or a negative count meaning slots left (-10); \
it fires when reached: 80% fires at 80% used, 150 at 150 used, -10 when 10 or fewer slots are left.

--idle-warning/--idle-critical fire when at least that many sessions have been idle for longer than \
--idle-age; --idle-in-transaction-warning/-critical when the oldest idle-in-transaction session is at \
least that old. The session filters narrow these counts; capacity is always the whole server's.

A server that refuses the check's connection because it is full (SQLSTATE 53300) is CRITICAL. A target \
that cannot be reached (connection refused, no answer within the timeout, starting up or shutting down) \
is CRITICAL, or UNKNOWN with --unreachable unknown. The whole check, connecting and querying every target \
included, ends within -t/--timeout (default 9s, inside the 10 s Nagios and NRPE give a plugin), with its \
own line. Other connection failures (authentication, a \
missing database) and failing queries are UNKNOWN: the check itself is misconfigured. Usage errors are \
UNKNOWN (exit 3) too.

With several targets the exit code is the worst state, the first line sums up and one more line per \
target gives its state. The exit code follows the state with every --format. --output writes the \
result whatever the state (an unreachable target is data too: pgconn_up 0, pgconn_check_status 2).";

const WATCH_ABOUT: &str = "\
Keep watching. On a terminal: a full-screen view refreshed in place with the status summary, the top \
groups and sparklines of used, idle and idle-in-transaction sessions over the window, with the change \
since the previous sample; q, Esc or Ctrl-C quits and restores the terminal. With several targets, one \
row and trend per target.

When stdout is not a terminal: one line per sample and target, e.g.
  2025-01-01T10:00:00Z 127.0.0.1:5432/postgres used=42/97 left=55 active=3 idle=36 idle_in_transaction=2 change=+1
With --json: one JSON object per sample and target (JSON Lines).

When a server goes away the view (or a line) says \"disconnected, retrying\", and pgconn reconnects with \
backoff (doubling from --interval up to 30s) instead of exiting.";

impl Thresholds {
    /// Percents within 0..=100 and a WARNING that comes no later than the CRITICAL.
    pub fn validate(&self) -> Result<(), String> {
        for (flag, v) in [
            ("--warn-used", self.warn_used),
            ("--crit-used", self.crit_used),
            ("--leak-share", self.leak_share),
        ] {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(format!("{flag} {v} is not a percent from 0 to 100"));
            }
        }
        if self.crit_used < self.warn_used {
            return Err(format!(
                "--crit-used {} is below --warn-used {}: CRITICAL would come before WARNING",
                self.crit_used, self.warn_used
            ));
        }
        Ok(())
    }
}

impl CheckArgs {
    /// A WARNING threshold that fires no later than its CRITICAL one (when both are given in the same form;
    /// a percent and a count can only be compared against a server).
    pub fn validate(&self) -> Result<(), String> {
        use CapacityThreshold::*;
        let inverted = match (self.warning, self.critical) {
            (Percent(w), Percent(c)) => w > c,
            (Used(w), Used(c)) => w > c,
            // Slots left: fewer left is worse.
            (Left(w), Left(c)) => w < c,
            _ => false,
        };
        if inverted {
            return Err(format!(
                "-w {} fires after -c {}: the WARNING threshold must be reached before the CRITICAL one",
                self.warning, self.critical
            ));
        }
        if let (Some(w), Some(c)) = (self.idle_warning, self.idle_critical) {
            if w > c {
                return Err(format!(
                    "--idle-warning {w} is above --idle-critical {c}: CRITICAL would come before WARNING"
                ));
            }
        }
        if let (Some(w), Some(c)) = (
            self.idle_in_transaction_warning,
            self.idle_in_transaction_critical,
        ) {
            if w > c {
                return Err(format!(
                    "--idle-in-transaction-warning {} is above --idle-in-transaction-critical {}",
                    humantime::format_duration(w),
                    humantime::format_duration(c)
                ));
            }
        }
        Ok(())
    }
}

/// A capacity threshold of `check`: when used slots reach a percent, a count, or leave this few free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapacityThreshold {
    /// `80%`: this percent of the slots ordinary roles can use.
    Percent(f64),
    /// `150`: this many used slots.
    Used(i64),
    /// `-10`: this many slots left, or fewer.
    Left(i64),
}

impl std::fmt::Display for CapacityThreshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CapacityThreshold::Percent(p) => write!(f, "{p}%"),
            CapacityThreshold::Used(n) => write!(f, "{n}"),
            CapacityThreshold::Left(n) => write!(f, "-{n}"),
        }
    }
}

/// Parse `80%`, `150` or `-10` (check_postgres's notation).
pub fn parse_capacity_threshold(s: &str) -> Result<CapacityThreshold, String> {
    let t = s.trim();
    let bad = || {
        format!("invalid threshold {s:?}: give a percent (80%), a count of used slots (150) or a negative count of slots left (-10)")
    };
    if let Some(p) = t.strip_suffix('%') {
        let v: f64 = p.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() || !(0.0..=100.0).contains(&v) {
            return Err(format!(
                "invalid threshold {s:?}: a percent must be between 0% and 100%"
            ));
        }
        return Ok(CapacityThreshold::Percent(v));
    }
    if let Some(n) = t.strip_prefix('-') {
        let v: i64 = n.parse().map_err(|_| bad())?;
        if v < 0 || n.starts_with(['+', '-']) {
            return Err(bad());
        }
        return Ok(CapacityThreshold::Left(v));
    }
    if t.starts_with('+') {
        return Err(bad());
    }
    t.parse::<i64>()
        .map(CapacityThreshold::Used)
        .map_err(|_| bad())
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// WARNING when used slots reach this: 80% of the usable slots, 150 used, or -10 (10 or fewer left)
    #[arg(short = 'w', long, default_value = "80%", value_name = "THRESHOLD", allow_negative_numbers = true, value_parser = parse_capacity_threshold)]
    pub warning: CapacityThreshold,

    /// CRITICAL when used slots reach this (same forms as --warning)
    #[arg(short = 'c', long, default_value = "95%", value_name = "THRESHOLD", allow_negative_numbers = true, value_parser = parse_capacity_threshold)]
    pub critical: CapacityThreshold,

    /// WARNING when at least N sessions are idle for longer than --idle-age
    #[arg(long, value_name = "N")]
    pub idle_warning: Option<usize>,

    /// CRITICAL when at least N sessions are idle for longer than --idle-age
    #[arg(long, value_name = "N")]
    pub idle_critical: Option<usize>,

    /// The age from which an idle session counts for --idle-warning and --idle-critical
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_age)]
    pub idle_age: Duration,

    /// WARNING when the oldest idle-in-transaction session is at least this old
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_in_transaction_warning: Option<Duration>,

    /// CRITICAL when the oldest idle-in-transaction session is at least this old
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_in_transaction_critical: Option<Duration>,

    /// The state of a target that cannot be reached
    #[arg(long, value_enum, default_value_t = UnreachableState::Critical, value_name = "STATE")]
    pub unreachable: UnreachableState,

    /// Finish within this long, connecting and querying included, with the check's own line (a target
    /// without an answer by then is unreachable); the default stays inside Nagios' and NRPE's 10 s
    #[arg(short = 't', long, default_value = "9s", value_name = "DURATION", value_parser = parse_target_timeout)]
    pub timeout: Duration,

    /// Output format; --json is short for --format json
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<CheckFormat>,

    /// Write the output to FILE atomically instead of stdout (see `status --output`)
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Time between samples (at least 100ms)
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Duration,

    /// Stop after N samples (attempts while disconnected count too); default: until q or Ctrl-C
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// Group sessions by these keys
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "database,user,application"
    )]
    pub by: Vec<GroupKey>,

    /// Show the N largest groups (fitted to the terminal's height)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,

    #[command(flatten)]
    pub thresholds: Thresholds,
}

/// Parse a duration the way users type it: humantime (`30s`, `5m`, `1h30m`) or PostgreSQL units
/// (`5min`, `300000ms`, `2d`). A bare number means seconds. Never panics: a value too large for a
/// duration, a negative one, NaN or infinity is an error.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration (examples: 30s, 5m, 1h30m, 5min, 300000ms)".into());
    }
    if t.starts_with('-') {
        return Err(format!("{s:?} must not be negative"));
    }
    if let Ok(n) = t.parse::<f64>() {
        if n.is_nan() {
            return Err(format!(
                "{s:?} is not a duration (examples: 30s, 5m, 1h30m)"
            ));
        }
        if n < 0.0 {
            return Err(format!("{s:?} must not be negative"));
        }
        return Duration::try_from_secs_f64(n).map_err(|_| format!("{s:?} is far too long"));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("{s:?} is not a duration: {e} (examples: 30s, 5m, 1h30m, 5min, 300000ms)")
    })
}

/// A duration within `min..=max`; the error names the range (clap names the flag).
fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < min || d > max {
        return Err(format!(
            "{s:?} is out of range: give {} to {}",
            short(min),
            short(max)
        ));
    }
    Ok(d)
}

const DAY: Duration = Duration::from_secs(86_400);

/// `0s`, `100ms`, `1h`, `3650d`: a range bound as it is typed.
fn short(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".into(),
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// A session age (`--older-than`, `--idle-longer-than`, thresholds): 0 to 3650 days, so that it always
/// fits the server's interval arithmetic.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, DAY * 3650)
}

/// `--connect-timeout`: 0 (wait forever, as libpq's 0) to one day.
pub fn parse_connect_timeout(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, DAY)
}

/// `--target-timeout`: 1 ms to one day.
pub fn parse_target_timeout(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(1), DAY)
}

/// `watch --interval`: 100 ms to one day.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(100), DAY)
}

/// `kill --wait`: 0 to one hour.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, Duration::from_secs(3600))
}

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
    fn durations_in_both_notations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("300000ms").unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("-5").is_err());
        assert!(parse_duration("soon").is_err());
        let years = "1y".repeat(20);
        let overflow = "1y".repeat(100_000);
        for hostile in [
            "1e400",
            "-1s",
            "NaN",
            "99999999999999999999",
            "inf",
            "",
            " ",
            &years,
            &overflow,
        ] {
            assert!(parse_age(hostile).is_err(), "{hostile:?} must be refused");
        }
        assert_eq!(parse_age("3650d").unwrap(), DAY * 3650);
        assert!(parse_age("3651d")
            .unwrap_err()
            .contains("out of range: give 0s to 3650d"));
        assert!(parse_interval("50ms").is_err());
        assert!(parse_wait("2h").is_err());
    }

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
