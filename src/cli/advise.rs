//! `pgconn advise`.

use std::time::Duration;

use clap::Args;

use super::duration::parse_age;

use super::common::{FilterArgs, Thresholds};

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

    /// Read pg_stat_database's session counters twice this far apart, for the rates of sessions started,
    /// abandoned and ended by FATAL errors (0: once, no rates)
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_age)]
    pub rate_window: Duration,

    /// Read each application's working sessions (active, or idle in transaction for less than 5 s; not
    /// waiting on a lock) this many times and size its pool from the peak (0: from the one snapshot)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub samples: usize,

    /// Time between two samples
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_age)]
    pub interval: Duration,

    /// Read the samples from a `watch --record` FILE instead of sampling (a day's peaks)
    #[arg(long, value_name = "FILE")]
    pub from: Option<std::path::PathBuf>,
}
