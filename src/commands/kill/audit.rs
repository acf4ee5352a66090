//! What `kill` and `kill-idle` write to the audit log ([`crate::commands::audit`]): the plan with its
//! selection, each batch's targets, their outcomes, and the summary with the server's counts.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use crate::activity::Filter;
use crate::commands::audit::{AuditLog, Who};
use crate::conninfo::Identity;
use crate::report::kill::{Action, KillReport, KillTarget, SessionOutcome};
use crate::report::State;

/// Open the log of a run on the server named by `identity` (host, port, database, user: no secret).
pub fn open(path: &Path, identity: Identity, version: &str, queries: bool) -> Result<AuditLog> {
    let mut server = serde_json::to_value(identity)?;
    server["version"] = Value::String(version.to_string());
    AuditLog::open(path, server, queries)
}

/// The plan: what was selected and what will be done, before anything is, with the plan's notes (what
/// the targets' clients receive among them).
pub fn plan(log: &mut AuditLog, r: &KillReport, filter: &Filter) -> Result<()> {
    let mut fields = json!({
            "dry_run": r.dry_run,
            "selection": selection(filter),
            "matched": r.matched,
            "not_visible": r.not_visible,
            "protected": r.protected,
            "kept": r.kept,
            "capped": r.capped,
            "if_more_than": r.if_more_than,
            "threshold_met": r.threshold_met,
            "targeted": r.targets.len(),
            "wait_seconds": r.run.wait_seconds,
            "notes": r.notes,
    });
    // kill --blockers: what it saw waiting, and what it never acts on
    if let Some(b) = &r.blockers {
        fields["blockers"] = json!(b);
    }
    log.plan(r.action, fields)
}

/// One line per target of a batch, before it is signalled.
pub fn targets(
    log: &mut AuditLog,
    batch: usize,
    targets: &[&KillTarget],
    action: Action,
) -> Result<()> {
    let lines: Vec<(Who, Option<&str>, Value)> = targets
        .iter()
        .map(|t| {
            let s = &t.session;
            // kill --blockers: the sessions it blocks, and the state_change compared when acting
            let more = match &t.blocker {
                Some(b) => json!({ "blocking": b.blocking, "state_change": b.state_change }),
                None => Value::Null,
            };
            (
                Who {
                    pid: s.pid,
                    backend_start: s.backend_start.as_deref(),
                    database: s.database.as_deref(),
                    user: s.user.as_deref(),
                    application: Some(&s.application),
                    client: s.client.as_deref(),
                    state: s.state.as_ref(),
                    state_seconds: s.state_seconds,
                },
                s.query.as_deref(),
                more,
            )
        })
        .collect();
    log.targets_with(batch, action, &lines)
}

/// One line per target with its observed outcome.
pub fn outcomes(log: &mut AuditLog, outcomes: &[SessionOutcome], action: Action) -> Result<()> {
    let lines: Vec<(Who, Value)> = outcomes
        .iter()
        .map(|o| {
            (
                Who {
                    pid: o.pid,
                    backend_start: o.backend_start.as_deref(),
                    database: o.database.as_deref(),
                    user: o.user.as_deref(),
                    application: Some(&o.application),
                    client: o.client.as_deref(),
                    state: o.state.as_ref(),
                    state_seconds: o.state_seconds,
                },
                json!({
                    "outcome": o.outcome,
                    "skip": o.skip,
                    "protection": o.protection,
                    "reason": o.reason,
                    "state_now": o.state_now,
                    "at": o.at,
                }),
            )
        })
        .collect();
    log.outcomes(action, &lines)
}

/// The last line: what was done, the server's counts before and after, and why the run stopped early.
pub fn summary(log: &mut AuditLog, r: &KillReport) -> Result<()> {
    log.summary(
        r.action,
        &r.run.summary,
        json!({
            "dry_run": r.dry_run,
            "matched": r.matched,
            "if_more_than": r.if_more_than,
            "threshold_met": r.threshold_met,
            "acted": r.run.acted,
            "before": r.run.observed.before,
            "after": r.run.observed.after,
            "interrupted": r.run.interrupted,
            "error": r.run.error,
        }),
    )
}

/// The selection of the run, as given (patterns, states, ages).
fn selection(f: &Filter) -> Value {
    json!({
        "db": f.db,
        "user": f.user,
        "app": f.app,
        "client": f.client,
        "exclude_db": f.exclude_db,
        "exclude_user": f.exclude_user,
        "exclude_app": f.exclude_app,
        "exclude_client": f.exclude_client,
        "states": f.states.iter().map(State::as_pg).collect::<Vec<_>>(),
        "state_older_than_seconds": f.state_older_than.map(|d| d.as_secs_f64()),
        "running_longer_than_seconds": f.running_longer_than.map(|d| d.as_secs_f64()),
        "pids": f.pids,
    })
}
