//! `pgconn status`.

use clap::{Args, ValueEnum};

use super::common::{FilterArgs, GroupArgs, Thresholds};

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub group: GroupArgs,

    #[command(flatten)]
    pub thresholds: Thresholds,

    /// Output format; --json is short for --format json
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<StatusFormat>,

    /// Write the output to FILE instead of stdout, atomically (a temporary file in the same directory,
    /// then a rename), e.g. for node_exporter's textfile collector. A target that could not be collected
    /// is written as pgconn_up 0 and pgconn_scrape_error{kind} 1 (exit 1); only the table or JSON of a
    /// single server that failed leaves FILE as it was
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Also read this PgBouncer's admin console (a conninfo or URI; dbname defaults to pgbouncer)
    #[arg(long, value_name = "CONNINFO")]
    pub pgbouncer: Option<String>,

    /// With --format prometheus: also pgconn_leak_suspect_statement_sessions, each leak suspect's
    /// dominant last statement by its fingerprint id (a `statement` label; off by default, one more
    /// series per suspect, and one more statement when there is a suspect)
    #[arg(long)]
    pub leak_statement_metric: bool,

    /// Every column in full and every line unwrapped. Otherwise, on a terminal narrower than the output,
    /// the group table's OTHER and ACTIVE columns drop first (in that order), long names are cut with …
    /// and lines of text wrap at a word; piped output is never fitted
    #[arg(short = 'w', long)]
    pub wide: bool,
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
