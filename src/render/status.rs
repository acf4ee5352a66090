//! The people's layout of `pgconn status`.

use comfy_table::{Cell, CellAlignment};

use crate::render::{text_cell, Style};

use crate::report::state::shown_counts;
use crate::report::status::StatusReport;
use crate::report::State;
use crate::report::{age, opt_age, Level};
use crate::text::clean;

/// The key cells of a group row, in `--by` order (`?` where the value is not visible).
pub fn group_key_cells(group_by: &[&str], g: &crate::report::status::Group) -> Vec<Cell> {
    group_by
        .iter()
        .map(|k| text_cell(&group_key_text(k, g)))
        .collect()
}

/// A group's value for key `k` as people read it (`?` where not visible; states with spaces).
pub fn group_key_text(k: &str, g: &crate::report::status::Group) -> String {
    match g.key.get(k).cloned().flatten() {
        None => "?".into(),
        Some(v) if k == "state" => State::from_key(&v).to_string(),
        // "fp 1a2b…: select … where id = ?": the id and the normalised text (escaped by the table).
        Some(v) if k == "statement" => match &g.statement_text {
            Some(t) => format!(
                "fp {v}: {}{}",
                crate::text::excerpt(t, 120),
                if g.statement_cut == Some(true) {
                    " (cut)"
                } else {
                    ""
                }
            ),
            None => format!("({})", v.replace('_', " ")),
        },
        // "php-fpm: pool www: 196 processes (pids 301, 302, 303, 304, 305, …)": one line per program.
        Some(v) if k == "process" && !g.client_pids.is_empty() => {
            let n = g.client_pids.len();
            let mut pids: Vec<String> = g.client_pids.iter().take(5).map(i32::to_string).collect();
            if n > 5 {
                pids.push("…".into());
            }
            let noun = if n == 1 { "process" } else { "processes" };
            format!("{v}: {n} {noun} (pid {})", pids.join(", "))
        }
        Some(v) => v,
    }
}

/// The group table's columns that drop first, in this order, when it is wider than the terminal (the
/// state line above it still counts every state; `--help` of status says so). Then the application
/// names are cut (with …), before the other names.
pub const DROP_FIRST: [&str; 2] = ["OTHER", "ACTIVE"];

/// On a terminal every line fits its width: the lines of text wrap at a word (continuation lines
/// indented under their text), the tables are fitted (see [`Style::fitted_table`]).
/// `  platform     aws-rds (strong evidence: setting rds.extensions, host name *.rds.amazonaws.com)`.
fn platform_line(
    p: crate::report::platform::Platform,
    info: &crate::report::platform::PlatformInfo,
) -> String {
    use crate::report::platform::Confidence;
    let how = match info.confidence {
        Some(Confidence::Weak) => {
            "weak evidence, nothing changed: provider roles survive a dump restored elsewhere; \
             --platform NAME confirms"
        }
        _ => "strong evidence",
    };
    format!(
        "  platform     {} ({how}: {})",
        p.name(),
        clean(&info.evidence.join(", "))
    )
}

/// `; aws-rds: 2 more for rds_superuser, rds_reserved (setting rds.rds_superuser_reserved_connections)`.
pub fn provider_reserve_words(pr: &crate::report::status::ProviderReserve) -> String {
    let how = if pr.counted == "added" {
        format!("{} more", pr.slots)
    } else {
        format!("{} at least, counted once", pr.slots)
    };
    format!(
        "; {}: {how} for {} ({}{})",
        pr.platform.name(),
        pr.roles.join(", "),
        pr.source,
        if pr.verified { "" } else { ", unverified" }
    )
}

pub fn human(r: &StatusReport, st: &Style) -> String {
    let mut out = String::new();
    let c = &r.capacity;
    let line = |out: &mut String, indent: usize, text: String| st.wrap_line(out, indent, &text);
    line(
        &mut out,
        2,
        format!(
            "{} {}  (PostgreSQL {}, connected as {}{})",
            st.bold("pgconn status"),
            clean(&r.target),
            clean(&r.server.version),
            clean(&r.server.current_user),
            if r.connection.is_replication() {
                st.bold(" via a WAL sender slot (replication=database)")
            } else {
                String::new()
            }
        ),
    );
    out.push('\n');
    if let Some(p) = r.platform.name {
        line(&mut out, 15, platform_line(p, &r.platform));
    }
    let cap_level = c.level;
    let mut reserved = match c.reserved_connections {
        Some(n) => format!(
            "{} for superusers, {n} for pg_use_reserved_connections",
            c.superuser_reserved_connections
        ),
        None => format!("{} for superusers", c.superuser_reserved_connections),
    };
    if let Some(pr) = &c.provider_reserve {
        reserved.push_str(&provider_reserve_words(pr));
    }
    line(
        &mut out,
        15,
        format!(
            "  capacity     {}  (max_connections {}, reserved {})",
            c.sentence(|p| st.paint(&p, cap_level)),
            c.max_connections,
            reserved
        ),
    );
    let mut parts: Vec<String> = shown_counts(&r.states)
        .into_iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    if r.not_visible > 0 {
        parts.push(format!("not visible {}", r.not_visible));
    }
    line(
        &mut out,
        15,
        format!(
            "  sessions     {} counted: {}",
            r.sessions,
            parts.join(" · ")
        ),
    );
    if r.idle.count > 0 {
        line(
            &mut out,
            15,
            format!(
                "  idle ages    oldest {} · median {} · p95 {}",
                opt_age(r.idle.oldest_seconds),
                opt_age(r.idle.median_seconds),
                opt_age(r.idle.p95_seconds)
            ),
        );
    }
    if r.new_sessions.sessions > 0 {
        let n = &r.new_sessions;
        let text = format!(
            "  new          {} started in the last {} s ({:.0}% of the sessions){}",
            n.sessions,
            n.younger_than_seconds,
            n.share_percent,
            if n.storm { ": connection storm" } else { "" }
        );
        line(&mut out, 15, text);
    }
    if r.oldest_transaction_seconds.is_some() {
        line(
            &mut out,
            15,
            format!(
                "  transactions oldest open {}{}",
                opt_age(r.oldest_transaction_seconds),
                r.oldest_idle_in_transaction_seconds
                    .map(|a| format!(" · oldest idle in transaction {}", age(a)))
                    .unwrap_or_default()
            ),
        );
    }
    if r.blocked_sessions > 0 || r.head_blocker.is_some() {
        let head = r
            .head_blocker
            .as_ref()
            .map(|h| {
                let sentence = format!("head blocker {}", h.sentence());
                let text = clean(&sentence);
                match h.state {
                    Some(State::IdleInTransaction | State::IdleInTransactionAborted) => {
                        format!(" · {}", st.paint(&text, Level::Warning))
                    }
                    _ => format!(" · {text}"),
                }
            })
            .unwrap_or_default();
        line(
            &mut out,
            15,
            format!(
                "  blocked      {} session(s) wait on a lock{head}",
                r.blocked_sessions
            ),
        );
    }
    out.push('\n');

    if !r.groups.is_empty() {
        let mut header: Vec<&str> = r
            .group_by
            .iter()
            .map(|k| match *k {
                "database" => "DATABASE",
                "user" => "USER",
                "application" => "APPLICATION",
                "client" => "CLIENT",
                "process" => "PROCESS",
                "statement" => "STATEMENT",
                _ => "STATE",
            })
            .collect();
        header.extend([
            "SESSIONS",
            "ACTIVE",
            "IDLE",
            "IDLE IN TX",
            "OTHER",
            "OLDEST IDLE",
        ]);
        let mut rows = Vec::new();
        for g in &r.groups {
            let mut row = group_key_cells(&r.group_by, g);
            let (active, idle) = (
                State::Active.count_in(&g.states),
                State::Idle.count_in(&g.states),
            );
            let iit = crate::report::idle_in_transaction(&g.states);
            let other = g.sessions - active - idle - iit;
            row.push(Cell::new(g.sessions).set_alignment(CellAlignment::Right));
            row.push(Cell::new(active).set_alignment(CellAlignment::Right));
            let idle = if g.possible_leak {
                st.level_cell(format!("{idle} leak?"), Level::Warning)
            } else {
                Cell::new(idle)
            };
            row.push(idle.set_alignment(CellAlignment::Right));
            row.push(Cell::new(iit).set_alignment(CellAlignment::Right));
            row.push(Cell::new(other).set_alignment(CellAlignment::Right));
            row.push(Cell::new(opt_age(g.oldest_idle_seconds)).set_alignment(CellAlignment::Right));
            rows.push(row);
        }
        let free = ["STATEMENT", "PROCESS", "APPLICATION"]
            .into_iter()
            .find(|h| header.contains(h));
        out.push_str(&st.fitted_table(&header, rows, &DROP_FIRST, free));
        out.push('\n');
        if r.groups_total > r.groups.len() {
            out.push_str(&format!(
                "  ({} more groups; --top 0 shows all)\n",
                r.groups_total - r.groups.len()
            ));
        }
        out.push('\n');
    }

    out.push_str(&limits(r, st));
    out.push_str(&pgbouncer(r, st));
    out.push_str(&format!(
        "{} {}\n",
        st.bold("verdict"),
        st.paint(r.verdict.status.as_str(), r.verdict.status)
    ));
    verdict_lines(&mut out, &r.verdict.reasons, &r.warnings, st);
    // Where in the application each leak is: the statement its idle sessions last ran (wrapped as the
    // reasons are).
    for l in &r.leak_suspects {
        if let Some(d) = &l.statement {
            let app = if l.application.is_empty() {
                "(no application_name)"
            } else {
                &l.application
            };
            st.wrap_line(
                &mut out,
                4,
                &format!("  · leak {}: {}", clean(app), clean(&d.evidence())),
            );
        }
    }
    out
}

/// Roles and databases with a connection limit: their sessions against it (a superuser's limit is not
/// enforced; an invalid database has none). Nothing when there is none.
pub fn limits(r: &StatusReport, st: &Style) -> String {
    let l = &r.limits;
    if l.roles.is_empty() && l.databases.is_empty() {
        return String::new();
    }
    let app = |a: &Option<String>, n: usize| match a.as_deref() {
        None => String::new(),
        Some("") => format!("(unnamed) {n}"),
        Some(a) => format!("{} {n}", clean(a)),
    };
    let mut rows = Vec::new();
    for x in &l.roles {
        let use_ = if x.superuser {
            Cell::new("superuser")
        } else {
            st.level_cell(x.status.as_str(), x.status)
        };
        rows.push(vec![
            Cell::new("role"),
            Cell::new(clean(&x.user)),
            Cell::new(format!("{} / {}", x.sessions, x.limit)).set_alignment(CellAlignment::Right),
            use_,
            Cell::new(app(&x.largest_application, x.largest_application_sessions)),
        ]);
    }
    for x in &l.databases {
        let (count, use_) = match x.limit {
            Some(n) if !x.invalid => (
                format!("{} / {n}", x.sessions),
                st.level_cell(x.status.as_str(), x.status),
            ),
            _ => (
                format!("{} / -", x.sessions),
                st.level_cell("invalid database", Level::Warning),
            ),
        };
        rows.push(vec![
            Cell::new("database"),
            Cell::new(clean(&x.database)),
            Cell::new(count).set_alignment(CellAlignment::Right),
            use_,
            Cell::new(app(&x.largest_application, x.largest_application_sessions)),
        ]);
    }
    let header = [
        "LIMIT ON",
        "NAME",
        "SESSIONS / LIMIT",
        "STATUS",
        "LARGEST APPLICATION",
    ];
    let mut out = st.fitted_table(&header, rows, &[], Some("LARGEST APPLICATION"));
    out.push_str("\n\n");
    out
}

/// The verdict's reasons (`  - ...`) and the warnings (`  ! ...`), each wrapped under its text.
pub(super) fn verdict_lines(out: &mut String, reasons: &[String], warnings: &[String], st: &Style) {
    for reason in reasons {
        st.wrap_line(out, 4, &format!("  - {}", clean(reason)));
    }
    for w in warnings {
        st.wrap_line(out, 4, &format!("  ! {}", clean(w)));
    }
}

/// PgBouncer's pool columns that drop first on a narrow terminal.
const PGBOUNCER_DROP_FIRST: [&str; 3] = ["SV USED", "SV IDLE", "CL ACTIVE"];

/// PgBouncer's side of `status --pgbouncer`.
pub fn pgbouncer(r: &StatusReport, st: &Style) -> String {
    let Some(b) = &r.pgbouncer else {
        return String::new();
    };
    let mut out = st.wrap(&format!(
        "{} {}: clients active {}, waiting {}; server connections active {}, idle {}, used {}; longest wait {:.3}s; {} of the sessions above are its server connections",
        st.bold("pgbouncer"),
        clean(&b.target),
        b.clients_active,
        b.clients_waiting,
        b.servers_active,
        b.servers_idle,
        b.servers_used,
        b.max_wait_seconds,
        r.via_pgbouncer
    ), 2);
    out.push('\n');
    let header = [
        "DATABASE",
        "USER",
        "MODE",
        "CL ACTIVE",
        "CL WAITING",
        "SV ACTIVE",
        "SV IDLE",
        "SV USED",
        "MAXWAIT",
    ];
    let mut rows = Vec::new();
    for p in &b.pools {
        let waiting = if p.clients_waiting > 0 {
            st.level_cell(p.clients_waiting, Level::Warning)
        } else {
            Cell::new(p.clients_waiting)
        };
        rows.push(vec![
            text_cell(&p.database),
            text_cell(&p.user),
            text_cell(p.pool_mode.as_deref().unwrap_or("")),
            Cell::new(p.clients_active).set_alignment(CellAlignment::Right),
            waiting.set_alignment(CellAlignment::Right),
            Cell::new(p.servers_active).set_alignment(CellAlignment::Right),
            Cell::new(p.servers_idle).set_alignment(CellAlignment::Right),
            Cell::new(p.servers_used).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.3}s", p.max_wait_seconds)).set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&st.fitted_table(&header, rows, &PGBOUNCER_DROP_FIRST, None));
    out.push_str("\n\n");
    out
}
