//! The people's layout of `pgconn sessions`.

use comfy_table::{Cell, CellAlignment};

use crate::render::{text_cell, Style};

use crate::report::sessions::SessionsReport;
use crate::report::{opt_age, Level};
use crate::report::{Session, State};
use crate::text::{clean, excerpt};

/// Level a state is shown in: long idle transactions stand out.
fn state_level(s: &Session) -> Level {
    match s.state {
        Some(State::IdleInTransaction | State::IdleInTransactionAborted) => Level::Warning,
        Some(State::Active) => Level::Ok,
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

/// How much of a query's first line the table holds: all of it (pg_stat_activity keeps about 1 kB); on a
/// terminal the fitted table cuts it to the room left.
pub fn query_width(_st: &Style) -> usize {
    1000
}

/// One row of the session table.
pub fn row(s: &Session, st: &Style, query_width: usize) -> Vec<Cell> {
    let state = s.state.as_ref().map_or("(not visible)", State::as_pg);
    let state_cell = if state_level(s) == Level::Warning {
        st.level_cell(clean(state), Level::Warning)
    } else {
        text_cell(state)
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

/// The columns that drop first, in this order, when the table is wider than the terminal (`--help` of
/// sessions, kill and kill-idle says so).
pub const DROP_FIRST: [&str; 4] = ["WAIT", "XACT", "CLIENT", "DATABASE"];

/// The session table shared by `sessions` and the previews of `kill`.
pub fn table(sessions: &[Session], st: &Style) -> String {
    let query_width = query_width(st);
    let rows = sessions.iter().map(|s| row(s, st, query_width)).collect();
    st.fitted_table(&HEADER, rows, &DROP_FIRST, Some("QUERY"))
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
