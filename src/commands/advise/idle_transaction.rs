//! Sessions idle in a transaction for longer than the threshold: they hold locks and a slot, and block
//! vacuum.

use super::{floor_duration, Inputs};
use crate::report::advise::{Finding, Severity};
use crate::report::{age, Session, State};

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let (sessions, prefix) = (&i.sessions, &i.prefix);
    let limit = i.request.thresholds.idle_in_transaction_age.as_secs_f64();
    let mut holders: Vec<&Session> = sessions
        .iter()
        .filter(|s| {
            matches!(
                s.state,
                Some(State::IdleInTransaction | State::IdleInTransactionAborted)
            ) && s.state_seconds.unwrap_or(0.0) > limit
        })
        .collect();
    if holders.is_empty() {
        return Vec::new();
    }
    holders.sort_by(|a, b| {
        b.state_seconds
            .unwrap_or(0.0)
            .total_cmp(&a.state_seconds.unwrap_or(0.0))
    });
    let xmin = holders.iter().any(|s| s.xmin_age.is_some());
    let evidence = holders
        .iter()
        .take(10)
        .map(|s| {
            format!(
                "pid {} ({}, user {}): idle in transaction for {}, transaction open {}{}",
                s.pid,
                if s.application.is_empty() {
                    "-"
                } else {
                    &s.application
                },
                s.user.as_deref().unwrap_or("?"),
                crate::report::opt_age(s.state_seconds),
                crate::report::opt_age(s.transaction_seconds),
                s.xmin_age
                    .map(|a| format!(", holds back the xmin horizon by {a} transactions"))
                    .unwrap_or_default()
            )
        })
        .collect();
    vec![Finding {
        id: "idle_in_transaction".into(),
        severity: if holders.iter().any(|s| s.state_seconds.unwrap_or(0.0) > limit * 6.0) {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!("{} session(s) idle in transaction for longer than {}", holders.len(), age(limit)),
        evidence,
        why: format!(
            "an open transaction holds its locks and its connection{}; the application forgot to COMMIT or \
             ROLLBACK (or waits on something outside the database)",
            if xmin { ", and its snapshot stops vacuum from removing dead rows (table and index bloat)" } else { "" }
        ),
        recommendation: "terminate them, and set idle_in_transaction_session_timeout so the server does it itself"
            .into(),
        commands: vec![
            format!(
                "{prefix} kill-idle --state idle-in-transaction --state idle-in-transaction-aborted --older-than {}",
                floor_duration(limit)
            ),
        ],
        config: None,
        rank: 4,
    }]
}
