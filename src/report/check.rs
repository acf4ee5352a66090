//! `pgconn check`: a Nagios/Icinga plugin's result — the overall state, each target's state with its
//! measurements (performance data) and the thresholds in effect.

use serde::Serialize;

use super::fleet::FailureKind;
use super::status::StatusReport;
use super::Level;

/// The overall result.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub status: Level,
    pub exit_code: u8,
    /// The text after the state on the first line of plugin output.
    pub summary: String,
    pub thresholds: ThresholdSettings,
    pub targets: Vec<CheckTarget>,
}

/// The thresholds in effect, as given.
#[derive(Debug, Serialize)]
pub struct ThresholdSettings {
    pub warning: String,
    pub critical: String,
    pub idle_warning: Option<usize>,
    pub idle_critical: Option<usize>,
    pub idle_age_seconds: f64,
    /// The leak rule (status's): --leak-idle-age, --leak-min-sessions, --leak-share.
    pub leak_idle_age_seconds: f64,
    pub leak_min_sessions: usize,
    pub leak_share_percent: f64,
    pub idle_in_transaction_warning_seconds: Option<f64>,
    pub idle_in_transaction_critical_seconds: Option<f64>,
    pub unreachable: Level,
}

/// One target's state.
#[derive(Debug, Serialize)]
pub struct CheckTarget {
    pub target: String,
    pub status: Level,
    pub summary: String,
    /// What raised the state above OK.
    pub reasons: Vec<String>,
    pub error: Option<String>,
    pub error_kind: Option<FailureKind>,
    pub sqlstate: Option<String>,
    /// Values with their thresholds, as in the performance data.
    pub measurements: Vec<Measurement>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub report: Option<StatusReport>,
}

/// One performance-data value. `warning` / `critical` are the values at which the state fires.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub name: &'static str,
    pub value: f64,
    /// `""` (a count) or `"s"` (seconds).
    pub unit: &'static str,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}
