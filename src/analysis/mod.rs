//! The rules pgconn judges by, in one place: capacity math, the status verdict and its leak rule, the
//! PgBouncer pool rule. Pure functions over report data and these option structs (never clap's): status,
//! check, watch, advise and the Prometheus output all use them.

use std::time::Duration;

use crate::report::pgbouncer::Pool;
use crate::report::status::GroupKey;
use crate::report::Level;

pub mod capacity;
pub mod churn;
pub mod limits;
pub mod status;

/// When the verdict turns WARNING or CRITICAL, and what counts as a possible leak.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// WARNING at this percent of the slots ordinary roles can use.
    pub warn_used: f64,
    /// CRITICAL at this percent (or when no slot is left).
    pub crit_used: f64,
    /// WARNING for a session idle in transaction longer than this.
    pub idle_in_transaction_age: Duration,
    /// A group holding at least `leak_min_sessions` sessions idle longer than this is a possible leak ...
    pub leak_idle_age: Duration,
    pub leak_min_sessions: usize,
    /// ... and so is one whose idle sessions are this percent of the usable slots, however young.
    pub leak_share: f64,
    /// A connection storm: more than this percent of at least 20 client sessions started in the last 10 s.
    pub storm_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_used: 80.0,
            crit_used: 95.0,
            idle_in_transaction_age: Duration::from_secs(300),
            leak_idle_age: Duration::from_secs(600),
            leak_min_sessions: 10,
            leak_share: 25.0,
            storm_share: 50.0,
        }
    }
}

/// How sessions are grouped in a status report.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub by: Vec<GroupKey>,
    /// The N largest groups (0: all).
    pub top: usize,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            by: vec![GroupKey::Database, GroupKey::User, GroupKey::Application],
            top: 10,
        }
    }
}

impl Grouping {
    /// Whether the groups are per client address (the server then counts per client too).
    pub fn by_client(&self) -> bool {
        self.by.contains(&GroupKey::Client)
    }
}

/// A PgBouncer pool's level: clients waiting for a server connection are WARNING, and CRITICAL once one
/// has waited a second. The one rule status' verdict and advise's finding share.
pub fn pool_level(p: &Pool) -> Level {
    if p.max_wait_seconds >= 1.0 {
        Level::Critical
    } else if p.clients_waiting > 0 || p.max_wait_seconds > 0.0 {
        Level::Warning
    } else {
        Level::Ok
    }
}
