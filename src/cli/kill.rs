//! `pgconn kill-idle` and `pgconn kill`, and the safety options they share.

use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};

use super::common::{FilterArgs, StateArg};
use super::duration::{parse_age, parse_wait};

/// The states `kill-idle` may act on: [`StateArg`]'s idle ones, with their spellings and aliases.
pub(super) fn idle_states() -> impl TypedValueParser<Value = StateArg> {
    let idle = StateArg::value_variants()
        .iter()
        .filter(|&&s| crate::report::State::from(s).is_idle())
        .filter_map(|s| s.to_possible_value());
    clap::builder::PossibleValuesParser::new(idle)
        .map(|name| StateArg::from_str(&name, false).expect("a possible value of StateArg"))
}

#[derive(Debug, Clone, Args)]
pub struct KillIdleArgs {
    /// Only sessions whose state has not changed for longer than this (with a unit: 30s, 5min, 1h30m)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Duration,

    /// States to act on (default: idle); repeat to combine, e.g. --state idle --state idle-in-transaction
    #[arg(long, value_parser = idle_states())]
    pub state: Vec<StateArg>,

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

    /// Only active sessions whose current query has run longer than this (with a unit: 30s, 5min)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub running_longer_than: Option<Duration>,

    /// Only idle sessions (any idle state) unchanged for longer than this (with a unit: 30s, 5min)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_longer_than: Option<Duration>,

    /// Cancel the running query (pg_cancel_backend) and keep the session, instead of terminating it
    #[arg(long)]
    pub cancel: bool,

    /// Every client session but pgconn's own (still previewed and confirmed)
    #[arg(long, conflicts_with = "pid")]
    pub all: bool,

    /// The head blockers: sessions holding a lock others wait for and waiting for nobody themselves (the
    /// root of each chain; never the waiting sessions, never a prepared transaction, which the plan lists
    /// with the COMMIT / ROLLBACK PREPARED to consider). The filters narrow the heads. Re-checked when
    /// acting: a head that ran a statement since the preview, or blocks nobody any more, is skipped
    #[arg(long)]
    pub blockers: bool,

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

    /// Also act on a managed platform's own admin sessions (rdsadmin on RDS and Aurora, …; left alone
    /// by default, listed as protection: provider)
    #[arg(long)]
    pub include_provider: bool,

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
    /// outcome after, and a summary; nothing is signalled that could not be recorded first. FILE must be
    /// a regular file of this user's (never a link, FIFO or device) in a directory no other user may
    /// change (one with the sticky bit, like /tmp, is fine)
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,

    /// Also record each session's last query in the --log file, with its string literals masked
    #[arg(long, requires = "log")]
    pub log_queries: bool,

    /// Print nothing unless something was done or went wrong: for cron. Then only the summary line
    /// (and the results, when a session was denied, failed, is unknown or still there after --wait);
    /// warnings and errors as always. Needs --yes (nobody is asked without seeing the plan)
    #[arg(short = 'q', long, requires = "yes")]
    pub quiet: bool,

    /// Sessions per terminating statement
    #[arg(long, default_value_t = 1000, value_name = "N", hide = true)]
    pub batch_size: usize,
}
