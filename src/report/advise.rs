//! `pgconn advise`: findings, each with its evidence, why it matters and the exact fix.

use serde::Serialize;

use super::pgbouncer::PgbouncerSnapshot;
use super::status::Capacity;
use super::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
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
}

/// A pool size per application so that all of them together fit into the usable slots with headroom.
#[derive(Debug, Clone, Serialize)]
pub struct PoolBudget {
    pub application: String,
    pub held: usize,
    pub in_use: usize,
    pub suggested: usize,
}
