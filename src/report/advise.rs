//! `pgconn advise`: findings, each with its evidence, why it matters and the exact fix.

use serde::{Deserialize, Serialize};

use super::pgbouncer::PgbouncerSnapshot;
use super::status::Capacity;
use super::Level;

/// How much a finding matters. JSON spells it as [`Level`] spells its words (`CRITICAL`, `WARNING`), in
/// upper case, so one spelling of a severity serves every report; INFO has no Level (a Level between OK
/// and WARNING would change the order Nagios and `check` rely on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        }
    }

    /// The [`Level`] a finding of this severity is shown with (INFO as OK).
    pub fn level(self) -> Level {
        match self {
            Severity::Critical => Level::Critical,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Ok,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub evidence: Vec<String>,
    pub why: String,
    pub recommendation: String,
    pub commands: Vec<String>,
    /// A configuration file to use (e.g. a generated pgbouncer.ini).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Order among findings of the same severity (lower first).
    #[serde(skip)]
    pub rank: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdviseReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub server_version: String,
    pub capacity: Capacity,
    pub sessions: usize,
    pub findings: Vec<Finding>,
    /// What this role could not read, and what the findings assume instead.
    pub skipped: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<PgbouncerSnapshot>,
    /// Sessions started and ended per database over `--rate-window` (PostgreSQL 14+; absent with
    /// `--rate-window 0s`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub churn: Vec<super::watch::Churn>,
    /// Working sessions per application over `--samples` (or `--from` a recording).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<Sampling>,
}

/// A pool size per application so that all of them together fit into the usable slots with headroom.
#[derive(Debug, Clone, Serialize)]
pub struct PoolBudget {
    pub application: String,
    pub held: usize,
    /// Sessions not idle at the instant of the snapshot.
    pub in_use: usize,
    /// The peak of working sessions over the samples (`advise --samples` or `--from`), when sampled: the
    /// pool size is sized from it instead of `in_use`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_peak: Option<usize>,
    pub suggested: usize,
}

/// One application's sessions in one sample (`working_sample.sql`): a line of `watch --record` holds one
/// per application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingCount {
    pub application: String,
    /// Client sessions it held.
    pub held: usize,
    /// Active, or idle in transaction for less than a short while; not waiting on a lock.
    pub working: usize,
    /// Sessions waiting on a heavyweight lock (`wait_event_type = 'Lock'`): not demand.
    pub lock_waiters: usize,
}

/// One line of `watch --record`: one target's working sessions per application at one sample.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedSample {
    /// When it was read, RFC 3339.
    pub time: String,
    /// The target as watch names it.
    pub target: String,
    /// Idle in transaction for less than this many seconds counted as working.
    pub idle_in_transaction_seconds: f64,
    pub applications: Vec<WorkingCount>,
}

/// A session whose session state transaction pooling would not keep (`pooling_breakers.sql`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolingBreaker {
    pub pid: i32,
    pub application: String,
    /// Its last statement was LISTEN: notifications go to the session that listened.
    pub listener: bool,
    /// It holds an advisory lock: a session-level one stays with the session, not the transaction.
    pub advisory_lock: bool,
    /// It has temporary tables (told apart from PostgreSQL 16 on).
    pub temp_tables: bool,
}

/// What the samples showed, per application (`advise --samples`, or a `watch --record` file read by
/// `advise --from`).
#[derive(Debug, Clone, Serialize)]
pub struct Sampling {
    /// `server` (read by advise itself) or the recording's path.
    pub source: String,
    pub samples: usize,
    /// Seconds between the first sample and the last.
    pub seconds: f64,
    /// Idle in transaction for less than this many seconds counts as working.
    pub idle_in_transaction_seconds: f64,
    pub applications: Vec<PoolDemand>,
}

/// One application over the samples.
#[derive(Debug, Clone, Serialize)]
pub struct PoolDemand {
    pub application: String,
    /// Working sessions in each sample, oldest first (0 where it held none).
    pub working: Vec<usize>,
    pub working_peak: usize,
    /// The most sessions it had waiting on a lock in one sample (left out of `working`).
    pub lock_waiters_peak: usize,
    pub held_peak: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_severity_is_spelled_as_its_level_in_json_and_in_tables() {
        for s in [Severity::Critical, Severity::Warning, Severity::Info] {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, s.as_str());
            if s != Severity::Info {
                assert_eq!(json, serde_json::to_value(s.level()).unwrap());
            }
        }
        assert_eq!(serde_json::to_value(Severity::Info).unwrap(), "INFO");
    }
}
