//! `pgconn advise`.

use clap::Args;

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
}
