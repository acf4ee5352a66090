//! The people's layout of `kill` and `kill-idle`: the preview (the plan) and the results. Every name and
//! reason that comes from the server or a client is [`clean`]ed: a session must not be able to fake the
//! screen the operator confirms.

use comfy_table::{Cell, CellAlignment};

use crate::render::{sessions, text_cell, Style};

use crate::report::batch::Summary;
use crate::report::kill::{Action, KillReport, OutcomeKind, Protection};
use crate::report::{opt_age, Level};
use crate::text::clean;

/// Protections in the order the preview lists them.
const PROTECTIONS: [Protection; 9] = [
    Protection::NotRunning,
    Protection::Superuser,
    Protection::Provider,
    Protection::ProtectApp,
    Protection::ProtectUser,
    Protection::Pooler,
    Protection::Listener,
    Protection::AdvisoryLock,
    Protection::TempTables,
];

/// At most this many pids are named per kind of protected session.
const PIDS_SHOWN: usize = 10;

/// Where a wrapped note's lines go on: under its text, after `  note: ` (kill's and rescue's).
pub const NOTE_INDENT: usize = 8;

/// What matched but is left alone, kind by kind (`2 superusers' sessions (--include-superusers)`).
fn left_alone(r: &KillReport) -> Vec<String> {
    let mut left_alone = Vec::new();
    for p in PROTECTIONS {
        let n = r.protected.get(p);
        if n == 0 {
            continue;
        }
        let flag = p
            .include_flag()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        left_alone.push(format!("{n} {}{flag}", p.describe()));
    }
    if r.kept > 0 {
        left_alone.push(format!("{} kept by --keep", r.kept));
    }
    if r.capped > 0 {
        left_alone.push(format!("{} over --max", r.capped));
    }
    left_alone
}

/// The one line repeated directly above the question: what is left alone, so that it is in sight when
/// the answer is given however long the preview was.
pub fn left_alone_line(r: &KillReport) -> Option<String> {
    let l = left_alone(r);
    (!l.is_empty()).then(|| format!("left alone: {}", l.join(", ")))
}

pub fn preview(r: &KillReport, st: &Style) -> String {
    let mut out = String::new();
    let verb = match r.action {
        Action::Terminate => "terminate",
        Action::Cancel => "cancel the query of",
    };
    let left_alone = left_alone(r);
    out.push_str(&format!(
        "{} sessions match on {}",
        r.matched,
        clean(&r.target)
    ));
    if !left_alone.is_empty() {
        out.push_str(&format!("; left alone: {}", left_alone.join(", ")));
    }
    out.push('\n');
    // Sessions this role cannot see are said by the plan's warning, just before the question.
    // The sessions that look idle but hold something an application relies on, by pid.
    for p in PROTECTIONS {
        let Some(why) = p.why() else { continue };
        let pids: Vec<String> = r
            .left_alone
            .iter()
            .filter(|l| l.protection == p)
            .map(|l| l.pid.to_string())
            .collect();
        if pids.is_empty() {
            continue;
        }
        let more = pids.len().saturating_sub(PIDS_SHOWN);
        out.push_str(&format!(
            "  left alone, {} {}: pid {}{}; {why}{}\n",
            pids.len(),
            p.describe(),
            pids[..pids.len().min(PIDS_SHOWN)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            p.include_flag()
                .map(|f| format!(" ({f} includes them)"))
                .unwrap_or_default()
        ));
    }
    // Notes are prose: wrapped to the terminal, under their text.
    for note in &r.notes {
        st.wrap_line(&mut out, NOTE_INDENT, &format!("  note: {}", clean(note)));
    }
    if !r.threshold_met {
        out.push_str(&format!(
            "{} session(s) would qualify, not more than --if-more-than {}: nothing to do\n",
            r.targets.len() + r.capped,
            r.if_more_than.unwrap_or(0)
        ));
        return out;
    }
    if r.blockers.as_ref().is_some_and(|b| b.waiting == 0) {
        out.push_str("no session waits on a lock someone holds: nothing to do\n");
        return out;
    }
    if r.targets.is_empty() {
        out.push_str("no session to act on\n");
        return out;
    }
    let list: Vec<_> = r.targets.iter().map(|t| t.session.clone()).collect();
    out.push_str(&sessions::table(&list, st));
    out.push('\n');
    out.push_str(&format!(
        "{} {verb} {} session{}:\n",
        st.bold(if r.dry_run { "would" } else { "will" }),
        r.targets.len(),
        if r.targets.len() == 1 { "" } else { "s" }
    ));
    for g in &r.groups {
        out.push_str(&format!(
            "  {:>5}  {} (user {}, database {}), longest {}\n",
            g.sessions,
            if g.application.is_empty() {
                "(no application_name)".into()
            } else {
                clean(&g.application)
            },
            clean(g.user.as_deref().unwrap_or("?")),
            clean(g.database.as_deref().unwrap_or("?")),
            opt_age(g.oldest_state_seconds)
        ));
    }
    // kill --blockers: whom each head blocks.
    for t in &r.targets {
        let Some(b) = &t.blocker else { continue };
        let more = b.blocking.len().saturating_sub(PIDS_SHOWN);
        out.push_str(&format!(
            "  head blocker pid {} ({}) blocks {} session{}: pid {}{}\n",
            t.session.pid,
            t.session
                .state
                .as_ref()
                .map_or("?".into(), |s| s.to_string()),
            b.blocking.len(),
            if b.blocking.len() == 1 { "" } else { "s" },
            b.blocking[..b.blocking.len().min(PIDS_SHOWN)]
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    let denied: Vec<String> = r
        .targets
        .iter()
        .filter(|t| !t.allowed)
        .map(|t| t.session.pid.to_string())
        .collect();
    if !denied.is_empty() {
        out.push_str(&st.paint(
            &format!(
                "  ! this role may not signal {} of them (pid {}): superusers' sessions need a superuser, others' need \
                 pg_signal_backend or membership in their role; they will be reported as permission denied\n",
                denied.len(),
                denied.join(", ")
            ),
            Level::Warning,
        ));
    }
    if r.dry_run {
        out.push_str("dry run: nothing was done\n");
    }
    out
}

/// How an outcome is coloured (kill's and rescue's).
pub fn level(o: OutcomeKind) -> Level {
    match o {
        OutcomeKind::Terminated | OutcomeKind::Cancelled => Level::Ok,
        OutcomeKind::Skipped | OutcomeKind::Signalled => Level::Warning,
        OutcomeKind::Denied | OutcomeKind::Failed | OutcomeKind::Unknown => Level::Critical,
    }
}

/// The totals of a run that signalled sessions (kill's, rescue's), and where its audit log is: `2
/// terminated, 0 cancelled, 1 skipped, 0 denied, 0 failed (logged to FILE)`, with a line break.
pub fn summary_line(
    s: &Summary,
    cancelled: bool,
    log: Option<&std::path::Path>,
    log_complete: bool,
) -> String {
    let mut parts = vec![format!("{} terminated", s.terminated)];
    if cancelled {
        parts.push(format!("{} cancelled", s.cancelled));
    }
    if s.signalled > 0 {
        parts.push(format!("{} signalled but not seen to end", s.signalled));
    }
    parts.push(format!("{} skipped", s.skipped));
    parts.push(format!("{} denied", s.denied));
    parts.push(format!("{} failed", s.failed));
    if s.unknown > 0 {
        parts.push(format!("{} unknown", s.unknown));
    }
    if s.not_attempted > 0 {
        parts.push(format!("{} not attempted", s.not_attempted));
    }
    let mut out = parts.join(", ");
    match (log, log_complete) {
        (Some(p), true) => {
            out.push_str(&format!(" (logged to {})", clean(&p.display().to_string())))
        }
        (Some(p), false) => out.push_str(&format!(
            " ({} IS INCOMPLETE: the audit log could not be written)",
            clean(&p.display().to_string())
        )),
        (None, _) => {}
    }
    out.push('\n');
    out
}

pub fn results(r: &KillReport, st: &Style) -> String {
    let mut out = String::new();
    if !r.run.results.is_empty() {
        let mut t = st.table();
        t.set_header(st.header(&[
            "PID",
            "APPLICATION",
            "USER",
            "DATABASE",
            "OUTCOME",
            "REASON",
        ]));
        for o in &r.run.results {
            t.add_row(vec![
                Cell::new(o.pid).set_alignment(CellAlignment::Right),
                text_cell(&o.application),
                text_cell(o.user.as_deref().unwrap_or("")),
                text_cell(o.database.as_deref().unwrap_or("")),
                st.level_cell(o.outcome.as_str(), level(o.outcome)),
                text_cell(o.reason.as_deref().unwrap_or("")),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    if let (Some(before), Some(after)) = (&r.run.observed.before, &r.run.observed.after) {
        if !r.run.results.is_empty() {
            out.push('\n');
        }
        let mut t = st.table();
        t.set_header(st.header(&["STATE", "BEFORE", "AFTER"]));
        let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for k in keys {
            t.add_row(vec![
                text_cell(&k.replace('_', " ")),
                Cell::new(before.get(k).copied().unwrap_or(0)).set_alignment(CellAlignment::Right),
                Cell::new(after.get(k).copied().unwrap_or(0)).set_alignment(CellAlignment::Right),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out.push_str(&summary_line(
        &r.run.summary,
        true,
        r.run.log.as_deref(),
        r.run.log_complete,
    ));
    if let Some(sig) = &r.run.interrupted {
        out.push_str(&format!(
            "interrupted by {sig}: the batch in flight was finished; nothing further was signalled\n"
        ));
    }
    out
}
