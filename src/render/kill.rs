//! The people's layout of `kill` and `kill-idle`: the preview (the plan) and the results.

use comfy_table::{Cell, CellAlignment};

use crate::commands::kill::{Action, KillReport};
use crate::render::{opt_age, sessions, Level, Style};

pub fn preview(r: &KillReport, st: &Style) -> String {
    let mut out = String::new();
    let verb = match r.action {
        Action::Terminate => "terminate",
        Action::Cancel => "cancel the query of",
    };
    let p = &r.protected;
    let mut left_alone = Vec::new();
    if p.superuser > 0 {
        left_alone.push(format!(
            "{} of superusers (--include-superusers)",
            p.superuser
        ));
    }
    if p.protect_app > 0 {
        left_alone.push(format!("{} protected by --protect-app", p.protect_app));
    }
    if p.protect_user > 0 {
        left_alone.push(format!("{} protected by --protect-user", p.protect_user));
    }
    if p.not_visible > 0 {
        left_alone.push(format!("{} not visible to this role", p.not_visible));
    }
    if r.kept > 0 {
        left_alone.push(format!("{} kept by --keep", r.kept));
    }
    if r.capped > 0 {
        left_alone.push(format!("{} over --max", r.capped));
    }
    out.push_str(&format!("{} sessions match on {}", r.matched, r.target));
    if !left_alone.is_empty() {
        out.push_str(&format!("; left alone: {}", left_alone.join(", ")));
    }
    out.push('\n');
    if !r.threshold_met {
        out.push_str(&format!(
            "{} session(s) would qualify, not more than --if-more-than {}: nothing to do\n",
            r.targets.len() + r.capped,
            r.if_more_than.unwrap_or(0)
        ));
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
                "(no application_name)"
            } else {
                &g.application
            },
            g.user.as_deref().unwrap_or("?"),
            g.database.as_deref().unwrap_or("?"),
            opt_age(g.oldest_state_seconds)
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

pub fn results(r: &KillReport, st: &Style) -> String {
    let mut out = String::new();
    let mut t = st.table();
    t.set_header(st.header(&[
        "PID",
        "APPLICATION",
        "USER",
        "DATABASE",
        "OUTCOME",
        "REASON",
    ]));
    for o in &r.results {
        let level = match o.outcome.as_str() {
            "terminated" | "cancelled" => Level::Ok,
            "skipped" => Level::Warning,
            _ => Level::Critical,
        };
        t.add_row(vec![
            Cell::new(o.pid).set_alignment(CellAlignment::Right),
            Cell::new(&o.application),
            Cell::new(o.user.as_deref().unwrap_or("")),
            Cell::new(o.database.as_deref().unwrap_or("")),
            st.level_cell(&o.outcome, level),
            Cell::new(o.reason.as_deref().unwrap_or("")),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    if let (Some(before), Some(after)) = (&r.before, &r.after) {
        let mut t = st.table();
        t.set_header(st.header(&["STATE", "BEFORE", "AFTER"]));
        let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for k in keys {
            t.add_row(vec![
                Cell::new(k.replace('_', " ")),
                Cell::new(before.get(k).copied().unwrap_or(0)).set_alignment(CellAlignment::Right),
                Cell::new(after.get(k).copied().unwrap_or(0)).set_alignment(CellAlignment::Right),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    let s = &r.summary;
    out.push_str(&format!(
        "{} terminated, {} cancelled, {} skipped, {} denied, {} failed",
        s.terminated, s.cancelled, s.skipped, s.denied, s.failed
    ));
    if let Some(p) = &r.log {
        out.push_str(&format!(" (logged to {})", p.display()));
    }
    out.push('\n');
    out
}
