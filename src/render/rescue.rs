//! The people's layout of `rescue`: the cluster and its processes, the preview (the plan) and the
//! results, then the status a normal connection sees. Titles, names and addresses come from clients
//! (a role or database name is anything its creator typed) and are [`clean`]ed.

use comfy_table::{Cell, CellAlignment};

use crate::render::kill::NOTE_INDENT;
use crate::render::{text_cell, Style};
use crate::report::rescue::{After, Backend, RescueReport, Unreadable};
use crate::report::{age, Level, State};
use crate::text::clean;

/// At most this many unreadable titles are listed one by one.
const UNREADABLE_SHOWN: usize = 10;

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The cluster line: where it is, and what its children are.
fn cluster(r: &RescueReport, st: &Style) -> String {
    let c = &r.cluster;
    let mut out = format!(
        "{} {} (postmaster pid {}{}{}) on {}\n",
        st.bold("pgconn rescue"),
        clean(&c.pgdata.display().to_string()),
        c.postmaster_pid,
        c.port.map(|p| format!(", port {p}")).unwrap_or_default(),
        if c.cluster_name.is_empty() {
            String::new()
        } else {
            format!(", cluster_name {}", clean(&c.cluster_name))
        },
        clean(&c.host)
    );
    let states: Vec<String> = r
        .states
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {}", State::from_key(k)))
        .collect();
    out.push_str(&format!(
        "  {}: {}{}, {} (never touched), {}\n",
        count(r.processes, "child process", "child processes"),
        count(r.client_backends.len(), "client backend", "client backends"),
        if states.is_empty() {
            String::new()
        } else {
            format!(" ({})", states.join(", "))
        },
        count(r.other_processes.len(), "other process", "other processes"),
        count(r.unreadable.len(), "unreadable title", "unreadable titles"),
    ));
    out
}

fn backends_table(list: &[Backend], st: &Style) -> String {
    let rows = list
        .iter()
        .map(|b| {
            vec![
                Cell::new(b.pid).set_alignment(CellAlignment::Right),
                text_cell(&b.user),
                text_cell(&b.database),
                text_cell(&b.client),
                text_cell(&b.activity),
                Cell::new(age(b.connected_seconds)).set_alignment(CellAlignment::Right),
            ]
        })
        .collect();
    st.fitted_table(
        &["PID", "USER", "DATABASE", "CLIENT", "STATE", "CONNECTED"],
        rows,
        &["CLIENT"],
        None,
    )
}

/// Backends left alone for their titles, one line each (the first [`UNREADABLE_SHOWN`]), with why.
fn titles_left_alone(out: &mut String, list: &[Unreadable], more: &str, st: &Style) {
    for u in list.iter().take(UNREADABLE_SHOWN) {
        out.push_str(&st.paint(
            &format!(
                "  left alone, pid {}: \"{}\": {}\n",
                u.pid,
                clean(&u.title),
                clean(&u.reason)
            ),
            Level::Warning,
        ));
    }
    if list.len() > UNREADABLE_SHOWN {
        out.push_str(&format!(
            "  and {} more {more} (see --json)\n",
            list.len() - UNREADABLE_SHOWN
        ));
    }
}

/// What matched but is left alone, kind by kind.
fn left_alone(r: &RescueReport) -> Vec<String> {
    let mut left_alone = Vec::new();
    if !r.untrusted.is_empty() {
        left_alone.push(format!(
            "{} whose titles may not be current",
            r.untrusted.len()
        ));
    }
    if r.kept > 0 {
        left_alone.push(format!("{} kept by --keep", r.kept));
    }
    if r.capped > 0 {
        left_alone.push(format!("{} over --max", r.capped));
    }
    left_alone
}

/// The one line repeated directly above the question: what is left alone (matching backends, and the
/// processes never touched whose titles could not be used), in sight when the answer is given.
pub fn left_alone_line(r: &RescueReport) -> Option<String> {
    let mut l = left_alone(r);
    let impostors = r.other_processes.iter().filter(|o| o.why.is_some()).count();
    if impostors > 0 {
        l.push(count(
            impostors,
            "process that is not a backend",
            "processes that are not backends",
        ));
    }
    if !r.unreadable.is_empty() {
        l.push(count(
            r.unreadable.len(),
            "unreadable title",
            "unreadable titles",
        ));
    }
    (!l.is_empty()).then(|| format!("left alone: {}", l.join(", ")))
}

/// The plan: the cluster, what is left alone and why, the targets.
pub fn preview(r: &RescueReport, st: &Style) -> String {
    let mut out = cluster(r, st);
    let left_alone = left_alone(r);
    out.push_str(&format!(
        "{} match (state {}){}\n",
        count(r.matched, "backend", "backends"),
        r.selection
            .states
            .iter()
            .map(State::as_pg)
            .collect::<Vec<_>>()
            .join(" or "),
        if left_alone.is_empty() {
            String::new()
        } else {
            format!("; left alone: {}", left_alone.join(", "))
        }
    ));
    titles_left_alone(
        &mut out,
        &r.untrusted,
        "whose titles may not be current",
        st,
    );
    for o in r.other_processes.iter().filter(|o| o.why.is_some()) {
        out.push_str(&st.paint(
            &format!(
                "  not a backend, pid {}: {}\n",
                o.pid,
                clean(o.why.as_deref().unwrap_or(""))
            ),
            Level::Warning,
        ));
    }
    titles_left_alone(&mut out, &r.unreadable, "unreadable titles", st);
    // Notes are prose: wrapped to the terminal, under their text.
    for note in &r.notes {
        st.wrap_line(&mut out, NOTE_INDENT, &format!("  note: {}", clean(note)));
    }
    if r.targets.is_empty() {
        out.push_str("no backend to act on");
        let iit = State::IdleInTransaction.count_in(&r.states);
        if iit > 0 && !r.selection.states.contains(&State::IdleInTransaction) {
            out.push_str(&format!(
                "; {iit} {} (--state idle-in-transaction selects them)",
                State::IdleInTransaction
            ));
        }
        out.push('\n');
        return out;
    }
    out.push_str(&backends_table(&r.targets, st));
    out.push('\n');
    out.push_str(&format!(
        "{} terminate {} (SIGTERM, as pg_terminate_backend):\n",
        st.bold(if r.dry_run { "would" } else { "will" }),
        count(r.targets.len(), "backend", "backends"),
    ));
    for g in &r.groups {
        out.push_str(&format!(
            "  {:>5}  user {}, database {}, longest connected {}\n",
            g.backends,
            clean(&g.user),
            clean(&g.database),
            age(g.longest_connected_seconds)
        ));
    }
    if r.dry_run {
        out.push_str("dry run: nothing was done\n");
    }
    out
}

/// What happened: per target, the totals, and what a normal connection sees now.
pub fn results(r: &RescueReport, st: &Style) -> String {
    let mut out = String::new();
    if !r.run.results.is_empty() {
        let rows = r
            .run
            .results
            .iter()
            .map(|o| {
                vec![
                    Cell::new(o.pid).set_alignment(CellAlignment::Right),
                    text_cell(&o.user),
                    text_cell(&o.database),
                    st.level_cell(o.outcome.as_str(), crate::render::kill::level(o.outcome)),
                    text_cell(o.reason.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        out.push_str(&st.fitted_table(
            &["PID", "USER", "DATABASE", "OUTCOME", "REASON"],
            rows,
            &[],
            Some("REASON"),
        ));
        out.push('\n');
    }
    out.push_str(&crate::render::kill::summary_line(
        &r.run.summary,
        false,
        r.run.log.as_deref(),
        r.run.log_complete,
    ));
    if let Some(sig) = &r.run.interrupted {
        out.push_str(&format!(
            "interrupted by {sig}: nothing further was signalled\n"
        ));
    }
    if let Some(a) = &r.run.observed.after {
        out.push_str(&after(a, st));
    }
    out
}

/// The status line of the normal connection tried afterwards.
pub fn after(a: &After, st: &Style) -> String {
    match &a.status {
        Some(s) => {
            let c = &s.capacity;
            let states: Vec<String> = s
                .states
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{n} {}", State::from_key(k)))
                .collect();
            format!(
                "{} {}: {}{}\n",
                st.paint("a normal connection gets in now:", Level::Ok),
                clean(&a.target),
                c.sentence(|p| st.paint(&p, c.level)),
                if states.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", states.join(", "))
                }
            )
        }
        None => st.paint(
            &format!(
                "a normal connection to {} still fails: {}\n",
                clean(&a.target),
                clean(a.error.as_deref().unwrap_or("unknown error"))
            ),
            Level::Warning,
        ),
    }
}
