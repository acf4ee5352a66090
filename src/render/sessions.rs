//! The people's layout of `pgconn sessions`.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment};
use serde::Serialize;

use crate::render::{text_cell, Style};

use crate::report::sessions::{
    PreparedTransaction, RemoteClient, SessionsHead, SessionsReport, SessionsSink, StatementGroup,
};
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
    let mut wait = match (&s.wait_event_type, &s.wait_event) {
        (Some(t), Some(e)) => format!("{t}:{e}"),
        _ => String::new(),
    };
    // who holds the lock it waits for (0: a prepared transaction), and the head of the chain
    if !s.blocked_by.is_empty() {
        let by: Vec<String> = s.blocked_by.iter().map(i32::to_string).collect();
        wait.push_str(&format!(" by {}", by.join(",")));
        if let Some(h) = s.head_blocker.filter(|h| !s.blocked_by.contains(h)) {
            wait.push_str(&format!(" (head {h})"));
        }
    }
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

/// The client process of a session for the PROCESS column: `4242 alice psql -h …`, or why it was not
/// found (`not local`).
pub fn process_cell(s: &Session) -> String {
    match &s.process {
        None => String::new(),
        Some(p) => match (p.client_pid, &p.client_command) {
            (Some(pid), Some(cmd)) => {
                format!("{pid} {} {}", p.client_user.as_deref().unwrap_or("?"), cmd)
            }
            _ => p.client_process_status.as_str().replace('_', " "),
        },
    }
}

/// The session table shared by `sessions` and the previews of `kill`; with the client processes
/// (`sessions --processes`), a PROCESS column before QUERY.
pub fn table(sessions: &[Session], st: &Style) -> String {
    let query_width = query_width(st);
    let with_process = sessions.iter().any(|s| s.process.is_some());
    let rows = sessions
        .iter()
        .map(|s| {
            let mut r = row(s, st, query_width);
            if with_process {
                r.insert(r.len() - 1, text_cell(&process_cell(s)));
            }
            r
        })
        .collect();
    if with_process {
        let mut header = HEADER.to_vec();
        header.insert(header.len() - 1, "PROCESS");
        st.fitted_table(&header, rows, &DROP_FIRST, Some("QUERY"))
    } else {
        st.fitted_table(&HEADER, rows, &DROP_FIRST, Some("QUERY"))
    }
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
    if !r.remote_clients.is_empty() {
        out.push_str("\nclients on other hosts: run this there to name the process\n");
        for c in &r.remote_clients {
            let app = if c.application.is_empty() {
                "(no application_name)"
            } else {
                &c.application
            };
            out.push_str(&format!(
                "  {}   # {} session(s) of {} (user {}, database {}) from {}\n",
                clean(&c.command),
                c.sessions,
                clean(app),
                clean(c.user.as_deref().unwrap_or("?")),
                clean(c.database.as_deref().unwrap_or("?")),
                clean(&c.client)
            ));
        }
    }
    if !r.statements.is_empty() {
        out.push_str("\nlast statements\n");
        for g in &r.statements {
            out.push_str(&format!(
                "  {:>5}  {}  {}\n",
                g.sessions,
                statement_states(&g.states),
                statement_label(&g.fingerprint)
            ));
        }
    }
    out
}

/// `30 idle in transaction, 2 idle`: a group's sessions per state, largest first.
fn statement_states(states: &std::collections::BTreeMap<String, usize>) -> String {
    let mut v: Vec<(&String, &usize)> = states.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{n} {}", State::from_key(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `fp 1a2b3c4d5e6f7a8b: select … where id = ? (cut)`, `(never queried)`: a fingerprint for people, its
/// text escaped and shortened.
pub fn statement_label(f: &crate::report::StatementFingerprint) -> String {
    match &f.statement_text {
        Some(t) => format!(
            "fp {}: {}{}",
            f.statement,
            clean(&excerpt(t, 120)),
            if f.statement_cut { " (cut)" } else { "" }
        ),
        None => format!("({})", f.statement.replace('_', " ")),
    }
}

/// `sessions --json` written as it is read: each session goes out as it arrives, and the bytes are those
/// [`super::json`] writes for the whole report.
pub struct JsonSink<W: Write> {
    w: W,
    sessions: usize,
    /// The sessions' array is closed.
    closed: bool,
}

impl JsonSink<io::BufWriter<io::StdoutLock<'static>>> {
    /// Onto stdout.
    pub fn stdout() -> Self {
        JsonSink::new(io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()))
    }
}

impl<W: Write> JsonSink<W> {
    fn close_sessions(&mut self) -> io::Result<()> {
        if !self.closed {
            if self.sessions > 0 {
                self.w.write_all(b"\n  ")?;
            }
            self.w.write_all(b"]")?;
            self.closed = true;
        }
        Ok(())
    }

    pub fn new(w: W) -> Self {
        JsonSink {
            w,
            sessions: 0,
            closed: false,
        }
    }

    /// Flush what is still buffered and give the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Pretty JSON, byte for byte what serde_json's pretty printer makes of the report, with each session
/// written straight from its fields: every key is a constant with its indentation, and only the values go
/// through serde_json (so strings are escaped and numbers spelled exactly as it does). Thousands of
/// sessions through the generic printer cost more CPU than reading them from the server.
impl<W: Write> SessionsSink for JsonSink<W> {
    fn head(&mut self, h: &SessionsHead) -> io::Result<()> {
        let w = &mut self.w;
        w.write_all(b"{\n  \"target\": ")?;
        value(w, &h.target)?;
        w.write_all(b",\n  \"connection\": ")?;
        nested(w, &h.connection)?;
        w.write_all(b",\n  \"count\": ")?;
        value(w, &h.count)?;
        w.write_all(b",\n  \"not_visible\": ")?;
        value(w, &h.not_visible)?;
        w.write_all(b",\n  \"sessions\": [")
    }

    fn session(&mut self, s: &Session) -> io::Result<()> {
        self.w
            .write_all(if self.sessions == 0 { b"\n" } else { b",\n" })?;
        self.sessions += 1;
        session_json(&mut self.w, s)
    }

    fn remote_clients(&mut self, remote: &[RemoteClient]) -> io::Result<()> {
        if remote.is_empty() {
            return Ok(());
        }
        self.close_sessions()?;
        self.w.write_all(b",\n  \"remote_clients\": ")?;
        nested(&mut self.w, remote)
    }

    fn statements(&mut self, groups: &[StatementGroup]) -> io::Result<()> {
        if groups.is_empty() {
            return Ok(());
        }
        self.close_sessions()?;
        self.w.write_all(b",\n  \"statements\": ")?;
        nested(&mut self.w, groups)
    }

    fn tail(&mut self, prepared: &[PreparedTransaction], warnings: &[String]) -> io::Result<()> {
        self.close_sessions()?;
        let w = &mut self.w;
        w.write_all(b",\n  \"prepared_transactions\": ")?;
        nested(w, prepared)?;
        w.write_all(b",\n  \"warnings\": ")?;
        nested(w, warnings)?;
        w.write_all(b"\n}\n")
    }
}

/// A whole report through [`JsonSink`].
pub fn write_json(r: &SessionsReport, w: &mut impl Write) -> io::Result<()> {
    let mut sink = JsonSink::new(w);
    sink.head(&SessionsHead {
        target: r.target.clone(),
        connection: r.connection.clone(),
        count: r.count,
        not_visible: r.not_visible,
    })?;
    for s in &r.sessions {
        sink.session(s)?;
    }
    sink.remote_clients(&r.remote_clients)?;
    sink.statements(&r.statements)?;
    sink.tail(&r.prepared_transactions, &r.warnings)?;
    sink.finish().map(drop)
}

/// One session as an element of the report's `sessions` (indented by two levels), the fields in the
/// order and with the omissions of [`Session`]'s own serialization.
fn session_json(w: &mut impl Write, s: &Session) -> io::Result<()> {
    w.write_all(b"    {\n      \"pid\": ")?;
    value(w, &s.pid)?;
    w.write_all(b",\n      \"database\": ")?;
    value(w, &s.database)?;
    w.write_all(b",\n      \"user\": ")?;
    value(w, &s.user)?;
    w.write_all(b",\n      \"application\": ")?;
    value(w, &s.application)?;
    w.write_all(b",\n      \"client\": ")?;
    value(w, &s.client)?;
    w.write_all(b",\n      \"client_port\": ")?;
    value(w, &s.client_port)?;
    w.write_all(b",\n      \"state\": ")?;
    value(w, &s.state)?;
    w.write_all(b",\n      \"backend_start\": ")?;
    value(w, &s.backend_start)?;
    w.write_all(b",\n      \"query_start\": ")?;
    value(w, &s.query_start)?;
    w.write_all(b",\n      \"connected_seconds\": ")?;
    value(w, &s.connected_seconds)?;
    w.write_all(b",\n      \"state_seconds\": ")?;
    value(w, &s.state_seconds)?;
    w.write_all(b",\n      \"transaction_seconds\": ")?;
    value(w, &s.transaction_seconds)?;
    w.write_all(b",\n      \"query_seconds\": ")?;
    value(w, &s.query_seconds)?;
    w.write_all(b",\n      \"never_queried\": ")?;
    value(w, &s.never_queried)?;
    w.write_all(b",\n      \"wait_event_type\": ")?;
    value(w, &s.wait_event_type)?;
    w.write_all(b",\n      \"wait_event\": ")?;
    value(w, &s.wait_event)?;
    w.write_all(b",\n      \"blocked_by\": ")?;
    pids(w, &s.blocked_by)?;
    if let Some(h) = &s.head_blocker {
        w.write_all(b",\n      \"head_blocker\": ")?;
        value(w, h)?;
    }
    w.write_all(b",\n      \"xmin_age\": ")?;
    value(w, &s.xmin_age)?;
    w.write_all(b",\n      \"superuser\": ")?;
    value(w, &s.superuser)?;
    if let Some(q) = &s.query {
        w.write_all(b",\n      \"query\": ")?;
        value(w, q)?;
    }
    w.write_all(b",\n      \"visible\": ")?;
    value(w, &s.visible)?;
    w.write_all(b",\n      \"via_pgbouncer\": ")?;
    value(w, &s.via_pgbouncer)?;
    if let Some(p) = &s.process {
        w.write_all(b",\n      \"client_pid\": ")?;
        value(w, &p.client_pid)?;
        w.write_all(b",\n      \"client_user\": ")?;
        value(w, &p.client_user)?;
        w.write_all(b",\n      \"client_command\": ")?;
        value(w, &p.client_command)?;
        w.write_all(b",\n      \"client_program\": ")?;
        value(w, &p.client_program)?;
        w.write_all(b",\n      \"client_process_status\": ")?;
        value(w, &p.client_process_status)?;
    }
    if let Some(f) = &s.statement {
        w.write_all(b",\n      \"statement\": ")?;
        value(w, &f.statement)?;
        w.write_all(b",\n      \"statement_source\": ")?;
        value(w, &f.statement_source)?;
        w.write_all(b",\n      \"statement_text\": ")?;
        value(w, &f.statement_text)?;
        w.write_all(b",\n      \"statement_cut\": ")?;
        value(w, &f.statement_cut)?;
    }
    w.write_all(b"\n    }")
}

/// A list of pids as the pretty printer writes it three levels down (`[]`, or one per line).
fn pids(w: &mut impl Write, pids: &[i32]) -> io::Result<()> {
    if pids.is_empty() {
        return w.write_all(b"[]");
    }
    w.write_all(b"[")?;
    for (i, p) in pids.iter().enumerate() {
        w.write_all(if i == 0 {
            b"\n        "
        } else {
            b",\n        "
        })?;
        value(w, p)?;
    }
    w.write_all(b"\n      ]")
}

/// A scalar as serde_json writes it (compact and pretty agree on scalars).
fn value<T: Serialize + ?Sized>(w: &mut impl Write, v: &T) -> io::Result<()> {
    v.serialize(&mut serde_json::Serializer::new(&mut *w))
        .map_err(io::Error::from)
}

/// A value that may span lines (an object, an array) as the pretty printer writes it one level down:
/// its own pretty text with every line after the first indented by two more spaces (JSON strings hold no
/// raw line breaks, so every line break is the layout's).
fn nested<T: Serialize + ?Sized>(w: &mut impl Write, v: &T) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(io::Error::from)?;
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            w.write_all(b"\n  ")?;
        }
        w.write_all(line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ConnectionRoute;

    fn session(pid: i32) -> Session {
        Session {
            pid,
            database: Some("app\"db".into()),
            user: Some("ünïcode\u{1}\n".into()),
            application: "leaky-worker\\".into(),
            client: Some("local".into()),
            client_port: Some(-1),
            state: Some(State::IdleInTransactionAborted),
            backend_start: Some("2024-05-01T12:00:00.123456Z".into()),
            query_start: None,
            connected_seconds: Some(1e-7),
            state_seconds: Some(86_400.25),
            transaction_seconds: Some(0.0),
            query_seconds: None,
            never_queried: true,
            wait_event_type: Some("Client".into()),
            wait_event: None,
            blocked_by: if pid == 3 { vec![0, 7] } else { vec![] },
            head_blocker: (pid == 3).then_some(0),
            xmin_age: Some(3),
            superuser: false,
            own_role: true,
            query: Some("SELECT '\t' -- \u{2028}".into()),
            visible: true,
            via_pgbouncer: false,
            process: None,
            query_id: None,
            query_cut: false,
            statement: Some(crate::report::StatementFingerprint {
                statement: "00000000000000ff".into(),
                statement_source: crate::report::StatementSource::Text,
                statement_text: Some("SELECT '…' --…\u{2028}".into()),
                statement_cut: true,
            }),
        }
    }

    fn hidden(pid: i32) -> Session {
        Session {
            pid,
            superuser: true,
            via_pgbouncer: true,
            ..Session::default()
        }
    }

    #[test]
    fn the_written_json_is_the_pretty_printers_own() {
        let reports = [
            SessionsReport {
                target: "/tmp/x:5432/postgres".into(),
                connection: ConnectionRoute::default(),
                count: 0,
                not_visible: 0,
                prepared_transactions: vec![],
                sessions: vec![],
                remote_clients: vec![],
                statements: vec![],
                warnings: vec![],
            },
            SessionsReport {
                target: "x".into(),
                connection: ConnectionRoute::default(),
                count: 0,
                not_visible: 0,
                sessions: vec![],
                remote_clients: vec![RemoteClient {
                    database: None,
                    user: Some("u".into()),
                    application: String::new(),
                    client: "10.0.0.7".into(),
                    sessions: 2,
                    command: "ss -tnp 'dst 10.0.0.5:5432 and sport = :41000'".into(),
                }],
                statements: vec![],
                prepared_transactions: vec![],
                warnings: vec![],
            },
            SessionsReport {
                target: "h\"ost:5432/db".into(),
                connection: ConnectionRoute::replication("server full\nreally")
                    .because(crate::report::fleet::FailureKind::Full),
                count: 7,
                not_visible: 1,
                sessions: vec![session(1), hidden(2), {
                    let mut s = session(3);
                    s.process = Some(crate::report::ClientProcess {
                        client_pid: Some(4242),
                        client_user: Some("www\u{1b}".into()),
                        client_command: Some("php-fpm: pool \"www\"".into()),
                        client_program: Some("php-fpm: pool \"www\"".into()),
                        client_process_status: crate::report::ClientProcessStatus::Found,
                    });
                    s
                }],
                remote_clients: vec![RemoteClient {
                    database: Some("d".into()),
                    user: None,
                    application: "a\"pp".into(),
                    client: "fd00::7".into(),
                    sessions: 1,
                    command: "ss -tnp 'dst [fd00::5]:5432 and sport = :1'".into(),
                }],
                statements: vec![StatementGroup {
                    fingerprint: session(1).statement.unwrap(),
                    sessions: 3,
                    states: [("idle".to_string(), 3)].into_iter().collect(),
                }],
                prepared_transactions: vec![crate::report::sessions::PreparedTransaction {
                    gid: "g'1\"".into(),
                    owner: Some("app".into()),
                    database: None,
                    age_seconds: Some(12.5),
                }],
                warnings: vec!["one".into(), "two \"quoted\"".into()],
            },
        ];
        for r in &reports {
            let mut written = Vec::new();
            write_json(r, &mut written).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                crate::render::pretty_json(r).unwrap()
            );
        }
    }
}
