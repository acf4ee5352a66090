//! rescue's lines in the audit log: the plan, each outcome, the summary.

use anyhow::Result;
use serde_json::json;

use crate::commands::audit::{AuditLog, Who};
use crate::report::kill::Action;
use crate::report::rescue::{Backend, RescueOutcome, RescueReport};

pub(super) fn who(b: &Backend) -> Who<'_> {
    Who {
        pid: b.pid,
        backend_start: Some(&b.started_at),
        database: Some(&b.database),
        user: Some(&b.user),
        application: None,
        client: Some(&b.client),
        state: b.state.as_ref(),
        state_seconds: None,
    }
}

pub(super) fn plan_line(log: &mut AuditLog, r: &RescueReport) -> Result<()> {
    log.plan(
        r.action,
        json!({
            "command": "rescue",
            "signal": "SIGTERM",
            "dry_run": r.dry_run,
            "selection": r.selection,
            "processes": r.processes,
            "client_backends": r.client_backends.len(),
            "unreadable": r.unreadable.len(),
            "matched": r.matched,
            "kept": r.kept,
            "capped": r.capped,
            "targeted": r.targets.len(),
            "wait_seconds": r.run.wait_seconds,
            "notes": r.notes,
        }),
    )
}

pub(super) fn summary_line(log: &mut AuditLog, r: &RescueReport) -> Result<()> {
    log.summary(
        r.action,
        &r.run.summary,
        json!({
            "command": "rescue",
            "dry_run": r.dry_run,
            "matched": r.matched,
            "acted": r.run.acted,
            "interrupted": r.run.interrupted,
            "error": r.run.error,
        }),
    )
}

pub(super) fn outcome_lines(log: &mut AuditLog, outcomes: &[RescueOutcome]) -> Result<()> {
    let lines: Vec<(Who, serde_json::Value)> = outcomes
        .iter()
        .map(|o| {
            (
                Who {
                    pid: o.pid,
                    backend_start: Some(&o.started_at),
                    database: Some(&o.database),
                    user: Some(&o.user),
                    application: None,
                    client: Some(&o.client),
                    state: o.state.as_ref(),
                    state_seconds: None,
                },
                json!({
                    "outcome": o.outcome,
                    "skip": o.skip,
                    "reason": o.reason,
                    "state_now": o.state_now,
                    "title_now": o.title_now,
                    "at": o.at,
                }),
            )
        })
        .collect();
    log.outcomes(Action::Terminate, &lines)
}
