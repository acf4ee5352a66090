//! `pgconn watch`: one round of samples — per target the last status, the change since the sample before,
//! a window of history for the trend, and whether the target is away.

use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::status::StatusReport;

/// Sessions started and ended in one database between two reads of pg_stat_database (PostgreSQL 14+).
/// After a counter reset (`reset`), the counts and rates are null: never a negative rate.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Churn {
    /// Empty for all databases together.
    pub database: String,
    /// Between the two reads.
    pub seconds: f64,
    /// The counters were reset between the reads (`stats_reset` changed, or a counter went down).
    pub reset: bool,
    pub sessions_started: Option<i64>,
    pub abandoned: Option<i64>,
    pub fatal: Option<i64>,
    pub killed: Option<i64>,
    pub sessions_per_second: Option<f64>,
    pub abandoned_per_minute: Option<f64>,
    pub fatal_per_minute: Option<f64>,
    pub killed_per_minute: Option<f64>,
}

/// The numbers a trend is drawn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub used: i64,
    pub idle: usize,
    /// Idle in transaction, aborted ones included.
    pub idle_in_transaction: usize,
}

impl Point {
    /// The point of one status sample.
    pub fn of(r: &StatusReport) -> Point {
        Point {
            used: r.capacity.used,
            idle: super::State::Idle.count_in(&r.states),
            idle_in_transaction: super::idle_in_transaction(&r.states),
        }
    }
}

/// Delta between the last two successful samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Delta {
    pub used: i64,
    pub idle: i64,
    pub idle_in_transaction: i64,
}

/// The rates of all databases together: the sum over the databases whose counters were not reset
/// (a reset in one database says nothing about the others); a reset only when every database was reset.
pub fn total(rates: &[Churn]) -> Option<Churn> {
    let first = rates.first()?;
    let kept: Vec<&Churn> = rates.iter().filter(|c| !c.reset).collect();
    let reset = kept.is_empty();
    let sum = |f: fn(&Churn) -> Option<i64>| -> Option<i64> {
        (!reset).then(|| kept.iter().filter_map(|c| f(c)).sum())
    };
    let sumf = |f: fn(&Churn) -> Option<f64>| -> Option<f64> {
        (!reset).then(|| super::round3(kept.iter().filter_map(|c| f(c)).sum()))
    };
    Some(Churn {
        database: String::new(),
        seconds: first.seconds,
        reset,
        sessions_started: sum(|c| c.sessions_started),
        abandoned: sum(|c| c.abandoned),
        fatal: sum(|c| c.fatal),
        killed: sum(|c| c.killed),
        sessions_per_second: sumf(|c| c.sessions_per_second),
        abandoned_per_minute: sumf(|c| c.abandoned_per_minute),
        fatal_per_minute: sumf(|c| c.fatal_per_minute),
        killed_per_minute: sumf(|c| c.killed_per_minute),
    })
}

/// A target that is away.
#[derive(Debug, Clone)]
pub struct Down {
    pub error: String,
    pub since: SystemTime,
    pub backoff: Duration,
    pub retry_at: Instant,
}

/// What the display knows about one target after a round.
#[derive(Debug, Clone)]
pub struct TargetView {
    pub target: String,
    /// The last successful sample (kept while the target is away).
    pub report: Option<StatusReport>,
    pub change: Option<Delta>,
    /// Churn per database since the sample before (PostgreSQL 14+; empty for the first sample).
    pub churn: Vec<Churn>,
    /// Oldest first; `None` for an attempt that failed.
    pub history: Vec<Option<Point>>,
    pub down: Option<Down>,
    /// Whether this round sampled (or tried to reach) the target.
    pub attempted: bool,
    /// This round's sample is the first after the target was away.
    pub reconnected: bool,
}

/// One round of samples.
#[derive(Debug, Clone)]
pub struct Round {
    pub time: SystemTime,
    pub number: u64,
    pub interval: Duration,
    pub targets: Vec<TargetView>,
}
