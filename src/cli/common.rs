//! Options every command shares: how to reach the server (psql's), how output looks, the session
//! filters, session states, grouping and the verdict thresholds.

use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};

use super::duration::{parse_age, parse_connect_timeout, parse_target_timeout};
pub use crate::report::status::GroupKey;
use crate::report::State;

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

    /// More targets, one per line: a conninfo, URI or service=NAME, or `NAME: CONNINFO` for a named
    /// target (labelled NAME; exporter's /probe?target=NAME); lines starting with # are comments
    /// (status, sessions, check, watch and exporter)
    #[arg(long, global = true, value_name = "FILE")]
    pub targets: Option<std::path::PathBuf>,

    /// Query up to N targets at once when there are several (default 64): at most N connections are open at
    /// any time, attempts given up on (--target-timeout) included
    #[arg(long, global = true, value_name = "N")]
    pub jobs: Option<usize>,

    /// With several targets, give up on one that has not answered after this long, connecting and
    /// querying included (default 30s)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_target_timeout)]
    pub target_timeout: Option<Duration>,

    /// When the server refuses a normal connection because it is full (SQLSTATE 53300: every slot
    /// taken, or only the reserved ones left), connect through a WAL sender slot instead
    /// (replication=database; needs a role with REPLICATION). A role's or a database's CONNECTION LIMIT
    /// (also 53300, the server may have free slots) takes that route only with always. Default auto for
    /// status, sessions, kill-idle, kill and advise; never for check, watch, tune, several targets,
    /// Prometheus output and status --output; exporter refuses auto and always
    #[arg(long, global = true, value_name = "WHEN", value_enum)]
    pub break_glass: Option<BreakGlassArg>,

    /// When the server refuses the user at its role's CONNECTION LIMIT, connect as this role instead
    /// (same host, port and database; its own password from ~/.pgpass or PGPASSWORD) only to show the
    /// limited role's sessions by application and state in the error, so you see what to free. Every
    /// command that connects accepts it; nothing else is done as that role
    #[arg(long, global = true, value_name = "ROLE")]
    pub fallback_user: Option<String>,

    /// The managed platform the server runs on, instead of detecting it from the host name, the
    /// provider's settings and roles: its reserved slots, its admin sessions and its own commands follow.
    /// none: no platform (pgconn as on a self-hosted server)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        value_parser = ["aws-rds", "aws-aurora", "cloud-sql", "azure-flexible", "supabase", "neon", "none"]
    )]
    pub platform: Option<String>,
}

/// `--break-glass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BreakGlassArg {
    /// Retry once through a WAL sender slot when the server refuses with 53300 because it is full
    Auto,
    /// Never use the emergency route
    Never,
    /// Connect through a WAL sender slot straight away
    Always,
}

impl From<BreakGlassArg> for crate::db::BreakGlass {
    fn from(b: BreakGlassArg) -> Self {
        match b {
            BreakGlassArg::Auto => crate::db::BreakGlass::Auto,
            BreakGlassArg::Never => crate::db::BreakGlass::Never,
            BreakGlassArg::Always => crate::db::BreakGlass::Always,
        }
    }
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

/// `--state`: the option's spelling (`idle-in-transaction`), and as aliases the JSON key
/// (`idle_in_transaction`) and PostgreSQL's (`idle in transaction`), both taken from [`State`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateArg {
    Active,
    Idle,
    IdleInTransaction,
    IdleInTransactionAborted,
    Fastpath,
    Disabled,
}

impl StateArg {
    /// The option's spelling.
    fn name(self) -> &'static str {
        match self {
            StateArg::Active => "active",
            StateArg::Idle => "idle",
            StateArg::IdleInTransaction => "idle-in-transaction",
            StateArg::IdleInTransactionAborted => "idle-in-transaction-aborted",
            StateArg::Fastpath => "fastpath",
            StateArg::Disabled => "disabled",
        }
    }
}

impl ValueEnum for StateArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            StateArg::Active,
            StateArg::Idle,
            StateArg::IdleInTransaction,
            StateArg::IdleInTransactionAborted,
            StateArg::Fastpath,
            StateArg::Disabled,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let state = State::from(*self);
        let name = self.name();
        let aliases = [state.key(), state.as_pg().to_string()]
            .into_iter()
            .filter(|a| a != name);
        Some(clap::builder::PossibleValue::new(name).aliases(aliases))
    }
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

    /// WARNING "connection storm" when more than this percent of the client sessions (at least 20)
    /// started in the last 10 seconds
    #[arg(long, default_value_t = 50.0, value_name = "PERCENT")]
    pub storm_share: f64,

    #[command(flatten)]
    pub leak: LeakThresholds,
}

/// What counts as a possible connection leak: one rule for status, check, watch and advise.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Leak rule")]
pub struct LeakThresholds {
    /// A (database, user, application) holding sessions idle longer than this ...
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_age)]
    pub leak_idle_age: Duration,

    /// ... and at least this many of them is named as a possible leak (WARNING)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub leak_min_sessions: usize,

    /// A group holding at least --leak-min-sessions idle sessions that make up this percent of the usable
    /// slots is named as a possible leak, however young they are
    #[arg(long, default_value_t = 25.0, value_name = "PERCENT")]
    pub leak_share: f64,
}

impl Default for LeakThresholds {
    /// The options' defaults (see [`Thresholds`]'s).
    fn default() -> Self {
        defaults::<LeakThresholds>()
    }
}

impl LeakThresholds {
    /// --leak-share is a percent within 0..=100.
    pub fn validate(&self) -> Result<(), String> {
        let v = self.leak_share;
        if !v.is_finite() || !(0.0..=100.0).contains(&v) {
            return Err(format!("--leak-share {v} is not a percent from 0 to 100"));
        }
        Ok(())
    }
}

impl Default for Thresholds {
    /// The options' defaults (the model's defaults are the same: a test in `convert` holds them together).
    fn default() -> Self {
        defaults::<Thresholds>()
    }
}

impl Thresholds {
    /// Percents within 0..=100 and a WARNING that comes no later than the CRITICAL.
    pub fn validate(&self) -> Result<(), String> {
        for (flag, v) in [
            ("--warn-used", self.warn_used),
            ("--crit-used", self.crit_used),
            ("--storm-share", self.storm_share),
        ] {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(format!("{flag} {v} is not a percent from 0 to 100"));
            }
        }
        self.leak.validate()?;
        if self.crit_used < self.warn_used {
            return Err(format!(
                "--crit-used {} is below --warn-used {}: CRITICAL would come before WARNING",
                self.crit_used, self.warn_used
            ));
        }
        Ok(())
    }
}

/// `--by` takes the grouping keys by name.
impl ValueEnum for GroupKey {
    fn value_variants<'a>() -> &'a [Self] {
        &GroupKey::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// How `status` and `watch` group sessions.
#[derive(Debug, Clone, Args)]
pub struct GroupArgs {
    /// Group sessions by these keys. `process` is the client process's program on this host (Linux,
    /// from /proc and the kernel's socket tables; other users' processes need root), with its pids
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "database,user,application"
    )]
    pub by: Vec<GroupKey>,

    /// Show the N largest groups (0 for all; watch also fits them to the terminal's height)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

impl Default for GroupArgs {
    /// The options' defaults (see [`Thresholds`]'s).
    fn default() -> Self {
        defaults::<GroupArgs>()
    }
}

/// An argument struct as clap fills it from no options at all: its declared defaults.
pub(super) fn defaults<T: Args + clap::FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("defaults"));
    let matches = cmd.get_matches_from(["defaults"]);
    T::from_arg_matches(&matches).expect("the defaults of an argument struct parse")
}
