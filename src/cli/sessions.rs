//! `pgconn sessions`.

use std::time::Duration;

use clap::Args;

use super::common::{FilterArgs, StateArg};
use super::duration::parse_age;

#[derive(Debug, Clone, Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// Only sessions in this state
    #[arg(long, value_enum)]
    pub state: Vec<StateArg>,

    /// Only sessions whose state has not changed for longer than this (with a unit: 30s, 5min)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub idle_longer_than: Option<Duration>,

    /// Show at most N sessions (0 for all)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,

    /// Every column in full. Otherwise, on a terminal narrower than the table, WAIT, XACT, CLIENT and
    /// DATABASE drop first (in that order) and long cells are cut with …; piped output is never fitted
    #[arg(short = 'w', long)]
    pub wide: bool,

    /// Only sessions waiting on a lock that another session (or a prepared transaction, pid 0) holds,
    /// each with the head of its chain: the blocker that waits for nobody (often idle in transaction)
    #[arg(long)]
    pub blocked: bool,

    /// Mark the server connections of this PgBouncer (its admin console: a conninfo or URI)
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,

    /// Find the client process behind each session on this host (Linux): its pid, OS user and command
    /// (from /proc and the kernel's socket tables). Another user's processes need root
    #[arg(long)]
    pub processes: bool,

    /// Fingerprint each session's last statement (the server's query_id where it computes one, else a
    /// hash of the text with literals, comments and numbers masked) and list the sessions per fingerprint
    #[arg(long)]
    pub by_statement: bool,
}
