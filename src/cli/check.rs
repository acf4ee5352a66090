//! `pgconn check`: thresholds in check_postgres's notation, formats, the unreachable state.

use std::time::Duration;

use clap::{Args, ValueEnum};

pub use crate::analysis::capacity::CapacityThreshold;

use super::common::{FilterArgs, LeakThresholds};
use super::duration::{parse_age, parse_target_timeout};

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

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// WARNING when used slots reach this: 80% of the usable slots, 150 used, or -10 (10 or fewer left)
    ///
    /// check_postgres's notation. Nagios range syntax (`10:`, `@5:10`) is not accepted: -10 already means
    /// slots left here, and two notations on one flag would be ambiguous.
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

    /// WARNING when the oldest idle-in-transaction session is at least this old [default: 5min, status's
    /// rule, unless a lower --idle-in-transaction-critical is given]
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
    pub leak: LeakThresholds,

    #[command(flatten)]
    pub filters: FilterArgs,
}

impl CheckArgs {
    /// A WARNING threshold that fires no later than its CRITICAL one (when both are given in the same form;
    /// a percent and a count can only be compared against a server).
    pub fn validate(&self) -> Result<(), String> {
        use CapacityThreshold::*;
        self.leak.validate()?;
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
                    crate::report::typed_duration(w),
                    crate::report::typed_duration(c)
                ));
            }
        }
        Ok(())
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
