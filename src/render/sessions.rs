//! The people's layout of `pgconn sessions`.

use comfy_table::{Cell, CellAlignment};

use crate::activity::Session;
use crate::commands::sessions::SessionsReport;
use crate::render::{clean, excerpt, opt_age, text_cell, Level, Style};

/// Level a state is shown in: long idle transactions stand out.
fn state_level(s: &Session) -> Level {
    match s.state.as_deref() {
        Some("idle in transaction") | Some("idle in transaction (aborted)") => Level::Warning,
        Some("active") => Level::Ok,
        _ => Level::Unknown,
    }
}

/// Column names of the session table.
pub const HEADER: [&str; 10] = [
    "PID",
    "DATABASE",
    "USER",
    "APPLICATION",
    "CLIENT",
    "STATE",
    "IN STATE",
    "XACT",
    "WAIT",
    "QUERY",
];

/// Width left for the query excerpt.
pub fn query_width(st: &Style) -> usize {
    st.width
        .map(|w| usize::from(w).saturating_sub(100).max(24))
        .unwrap_or(80)
}

/// One row of the session table.
pub fn row(s: &Session, st: &Style, query_width: usize) -> Vec<Cell> {
    let state = s.state.clone().unwrap_or_else(|| "(not visible)".into());
    let state_cell = if state_level(s) == Level::Warning {
        st.level_cell(clean(&state), Level::Warning)
    } else {
        text_cell(&state)
    };
    let wait = match (&s.wait_event_type, &s.wait_event) {
        (Some(t), Some(e)) => format!("{t}:{e}"),
        _ => String::new(),
    };
    vec![
        Cell::new(s.pid).set_alignment(CellAlignment::Right),
        text_cell(s.database.as_deref().unwrap_or("")),
        text_cell(s.user.as_deref().unwrap_or("")),
        text_cell(&if s.via_pgbouncer {
            format!("{} (pgbouncer)", s.application)
        } else {
            s.application.clone()
        }),
        text_cell(s.client.as_deref().unwrap_or("")),
        state_cell,
        Cell::new(opt_age(s.state_seconds)).set_alignment(CellAlignment::Right),
        Cell::new(opt_age(s.transaction_seconds)).set_alignment(CellAlignment::Right),
        text_cell(&wait),
        text_cell(
            &s.query
                .as_deref()
                .map(|q| excerpt(q, query_width))
                .unwrap_or_default(),
        ),
    ]
}

/// The session table shared by `sessions` and the previews of `kill`.
pub fn table(sessions: &[Session], st: &Style) -> String {
    let query_width = query_width(st);
    let mut t = st.table();
    t.set_header(st.header(&HEADER));
    for s in sessions {
        t.add_row(row(s, st, query_width));
    }
    t.to_string()
}

pub fn human(r: &SessionsReport, st: &Style) -> String {
    if r.sessions.is_empty() {
        return format!("no client sessions match ({})\n", clean(&r.target));
    }
    let mut out = table(&r.sessions, st);
    out.push('\n');
    if r.count > r.sessions.len() {
        out.push_str(&format!(
            "({} of {} sessions shown)\n",
            r.sessions.len(),
            r.count
        ));
    } else {
        out.push_str(&format!("({} sessions)\n", r.count));
    }
    out
}
