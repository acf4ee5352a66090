//! `pgconn watch`.

use std::time::Duration;

use clap::Args;

use super::common::{FilterArgs, GroupArgs, Thresholds};
use super::duration::parse_interval;

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Time between samples (at least 100ms)
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Duration,

    /// Stop after N samples (attempts while disconnected count too); default: until q or Ctrl-C
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Append each sample's working sessions per application to FILE (JSON lines) for `advise --from`
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub group: GroupArgs,

    #[command(flatten)]
    pub thresholds: Thresholds,
}
