//! Snapshots of every layout `src/render/` produces, built from report values written out by hand: no
//! server, no network, no clock (watch's `Instant`s are taken relative to one base, so only differences
//! show; every `SystemTime` is UNIX_EPOCH plus a fixed offset).
//!
//! Each human layout is pinned in plain text at 80 and 160 columns (a terminal that wide: tables are
//! fitted) and piped (nothing fitted), and once in colour, at 80 columns (the ANSI codes are in the
//! snapshot). Machine formats (Nagios, Prometheus, JSON) have one snapshot each. Besides the snapshots,
//! every human text, in every width and colour, is checked for what must hold whatever the snapshot
//! says: no control character but `\n` and pgconn's own SGR colour codes (a name like "evil\x1b[2J"
//! shows escaped, as `\x1b`), and at 80 columns every line fits in 80 columns of the terminal (wide
//! characters count two), but for the few views in [`WIDE_PROSE`].
//!
//! The snapshots are in tests/snapshots/render_snapshots__*.snap. After a deliberate change of a layout,
//! update them with
//!
//!     INSTA_UPDATE=always cargo test --test render_snapshots
//!
//! and review the diff (`git diff tests/snapshots`) before committing. A plain `cargo test` never writes
//! them: with CI=true a mismatch just fails; elsewhere it fails and leaves a `.snap.new` beside the old one
//! (delete it, or rerun with INSTA_UPDATE=always).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use pgconn::render::{self, Style};
use pgconn::report::advise::{AdviseReport, Finding, Severity};
use pgconn::report::batch::{BatchRun, Summary};
use pgconn::report::check::{CheckReport, CheckTarget, Measurement, ThresholdSettings};
use pgconn::report::fleet::{FailureKind, TargetResult};
use pgconn::report::kill::{
    Action, GroupSummary, KillReport, KillTarget, LeftAlone, OutcomeKind, Protected, Protection,
    SessionOutcome, SkipReason, StateCounts,
};
use pgconn::report::pgbouncer::{DatabaseEntry, PgbouncerSnapshot, Pool};
use pgconn::report::sessions::SessionsReport;
use pgconn::report::status::{
    Capacity, Group, IdleStats, LeakSuspect, ServerInfo, StatusReport, Verdict,
};
use pgconn::report::tune::{
    ApplyOutcome, ChangeRecord, ChangeReport, Effect, Entry, HistoryReport, InEffect, Listed,
    NotAvailable, Override, Recommendation, Scope, ServerRecord, ShowReport, ShownLimit,
    ShownSetting, TuneChange, Unreadable,
};
use pgconn::report::watch::{Delta, Down, Point, Round, TargetView};
use pgconn::report::{empty_states, not_visible_warning, Level, Session, State};

/// A name with a control sequence that would clear the screen if printed raw.
const EVIL: &str = "evil\u{1b}[2J";
/// How it must show: escaped.
const EVIL_SHOWN: &str = "evil\\x1b[2J";

const DB1: &str = "db1.example.com:5432/app";
const DB2: &str = "db2.example.com:5432/app";
const DB3: &str = "db3.example.com:5432/app";

/// 2024-03-15T10:15:00Z.
fn at(offset: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_710_497_700 + offset)
}

// ---------------------------------------------------------------------------------------------------
// Checks and the snapshot matrix
// ---------------------------------------------------------------------------------------------------

/// `s` without ANSI escape sequences (CSI: ESC [ parameters final-byte).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Visible width of a line on a terminal, ANSI sequences excluded: a wide character (日) takes two
/// columns, as comfy-table and the terminal count it.
fn width(line: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(strip_ansi(line).as_str())
}

/// A table's header rule: `─` and spaces only.
fn is_rule(line: &str) -> bool {
    let s = strip_ansi(line);
    s.contains('─') && s.chars().all(|c| c == '─' || c == ' ')
}

/// The lines of every table in `text`: the header (the line above a rule), the rule, and the rows below
/// it (every row line starts with a cell's padding space; the table ends at a blank line or at a line
/// that does not start with a space).
fn table_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if i > 0 && is_rule(lines[i]) {
            out.push(lines[i - 1]);
            out.push(lines[i]);
            i += 1;
            while i < lines.len()
                && strip_ansi(lines[i]).starts_with(' ')
                && !lines[i].trim().is_empty()
                && !is_rule(lines.get(i + 1).copied().unwrap_or(""))
            {
                out.push(lines[i]);
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Views whose prose lines (a plan's notes and warnings, a summary, a next step) are written unwrapped,
/// or that are laid out the same at any width: at 80 columns only their tables are held to 80 columns.
/// Each must still have a line wider than 80, so that its entry goes once its prose is wrapped.
const WIDE_PROSE: [&str; 9] = [
    "advise",
    "kill_preview",
    "kill_results",
    "rescue_preview",
    "rescue_results",
    "tune_presets",
    "tune_result_database",
    "tune_result_system",
    "tune_show",
];

/// The checks every text for people passes: only `\n` and SGR colour codes (with colour on) as control
/// characters, and at 80 columns every line 80 columns wide at most (only the tables for the views in
/// [`WIDE_PROSE`]). `name` is the view's name, its width and its colour (`status_80_plain`).
fn check_human(name: &str, text: &str, st: &Style) {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if c == '\x1b' {
            assert!(
                st.color,
                "{name}: an escape character without colour at byte {i}"
            );
            let mut j = i + 1;
            assert_eq!(
                bytes.get(j),
                Some(&b'['),
                "{name}: a raw non-CSI escape at byte {i}"
            );
            j += 1;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            assert_eq!(
                bytes.get(j),
                Some(&b'm'),
                "{name}: a raw escape sequence that is not a colour code at byte {i}: {:?}",
                &text[i..text.len().min(i + 12)]
            );
        } else {
            assert!(
                c == '\n' || !c.is_control(),
                "{name}: a raw control character {c:?} at byte {i}"
            );
        }
    }
    if st.width == Some(80) {
        for line in table_lines(text) {
            assert!(
                width(line) <= 80,
                "{name}: a table line is {} columns wide at 80:\n{}",
                width(line),
                strip_ansi(line)
            );
        }
        let view = name.split("_80_").next().unwrap_or(name);
        if WIDE_PROSE.contains(&view) {
            assert!(
                text.lines().any(|l| width(l) > 80),
                "{name} fits 80 columns now: take {view} out of WIDE_PROSE"
            );
        } else {
            every_line_fits(name, text, 80);
        }
    }
}

fn style(width: Option<u16>, color: bool) -> Style {
    Style {
        color,
        json: false,
        width,
    }
}

const WIDTHS: [(Option<u16>, &str); 3] = [(Some(80), "80"), (Some(160), "160"), (None, "piped")];
const COLOURS: [(bool, &str); 2] = [(false, "plain"), (true, "color")];

/// Snapshot one text for people, after the checks.
fn snap_human(name: &str, text: &str, st: &Style) {
    check_human(name, text, st);
    insta::assert_snapshot!(name.to_string(), text);
}

/// The texts of one layout, by `WIDTH_COLOUR` (`80_plain`, `piped_color`, ...).
type Texts = BTreeMap<String, String>;

/// Snapshot a layout that depends on the width: at 80, 160 and piped in plain text, and in colour at
/// 80 (`NAME_80_plain`, `NAME_160_plain`, `NAME_piped_plain`, `NAME_80_color`). Every width is also laid
/// out in colour and checked; all six texts are returned, by `WIDTH_COLOUR`.
fn snap_widths(name: &str, layout: impl Fn(&Style) -> String) -> Texts {
    let mut texts = Texts::new();
    for (w, wname) in WIDTHS {
        for (color, cname) in COLOURS {
            let st = style(w, color);
            let text = layout(&st);
            let key = format!("{wname}_{cname}");
            if snapshotted(&key) {
                snap_human(&format!("{name}_{key}"), &text, &st);
            } else {
                check_human(&format!("{name}_{key}"), &text, &st);
            }
            texts.insert(key, text);
        }
    }
    has_table(name, &texts["80_plain"]);
    texts
}

/// Whether a text of this `WIDTH_COLOUR` is pinned by a snapshot: plain at every width, colour once.
fn snapshotted(key: &str) -> bool {
    key.ends_with("_plain") || key == "80_color"
}

/// Snapshot a layout that does not depend on the width, plain and in colour (`NAME_plain`, `NAME_color`).
fn snap_colours(name: &str, layout: impl Fn(&Style) -> String) -> String {
    let mut plain = String::new();
    for (color, cname) in COLOURS {
        let st = style(None, color);
        let text = layout(&st);
        // Fitting must not change it: the same at 80 columns.
        let at_80 = style(Some(80), color);
        assert_eq!(text, layout(&at_80), "{name} depends on the width");
        check_human(&format!("{name}_80_{cname}"), &text, &at_80);
        snap_human(&format!("{name}_{cname}"), &text, &st);
        if !color {
            plain = text;
        }
    }
    plain
}

/// At least one table was found (so the 80-column check is not vacuous).
fn has_table(name: &str, text: &str) {
    assert!(!table_lines(text).is_empty(), "{name}: no table found");
}

/// Layouts that fit the terminal whole (status, watch): no line of any kind wider than `cols`.
fn every_line_fits(name: &str, text: &str, cols: usize) {
    for line in text.lines() {
        assert!(
            width(line) <= cols,
            "{name}: a line is {} columns wide at {cols}:\n{}",
            width(line),
            strip_ansi(line)
        );
    }
}

/// The row lines of the first table in `text`: below its rule, up to a blank line or the `(N more
/// groups ...)` note.
fn first_table_rows(text: &str) -> Vec<String> {
    text.lines()
        .map(strip_ansi)
        .skip_while(|l| !is_rule(l))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("  ("))
        .collect()
}

/// The width check finds every line of a table, wrapped rows included, and nothing around it.
#[test]
fn the_width_check_sees_every_table_line() {
    let text = [
        "a title line that is longer than the table below it, and is not part of it",
        "\x1b[1m A  \x1b[0m\x1b[1m B \x1b[0m",
        "───────",
        " 1   x ",
        "     y ",
        "after",
        "  indented prose",
    ]
    .join("\n");
    let text = text.as_str();
    assert_eq!(
        table_lines(text)
            .iter()
            .map(|l| strip_ansi(l))
            .collect::<Vec<_>>(),
        [" A   B ", "───────", " 1   x ", "     y "]
    );
    assert_eq!(width(" \x1b[38;5;11m idle \x1b[39m"), 7);
    // A fitted table at 80 columns is found and fits.
    let st = style(Some(80), true);
    let rows = vec![vec![
        comfy_table::Cell::new("x".repeat(200)),
        comfy_table::Cell::new("y"),
    ]];
    let t = st.fitted_table(&["LONG", "SHORT"], rows, &[], None);
    assert_eq!(table_lines(&t).len(), 3);
    check_human("self-test", &t, &st);
    // Any line wider than 80 columns at 80 fails, a wide character counting two.
    for wide in ["x".repeat(81), "日".repeat(41)] {
        let text = format!("a title\n{wide}\n");
        let caught = std::panic::catch_unwind(|| check_human("self-test_80_plain", &text, &st));
        assert!(caught.is_err(), "{wide} passed at 80 columns");
    }
    check_human("self-test_80_plain", &"日".repeat(40), &st);
}

// ---------------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------------

fn states(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    let mut s = empty_states();
    for (k, n) in pairs {
        s.insert(k.to_string(), *n);
    }
    s
}

fn group(
    db: Option<&str>,
    user: Option<&str>,
    app: Option<&str>,
    st: &[(&str, usize)],
    oldest_idle: Option<f64>,
    possible_leak: bool,
) -> Group {
    let states = states(st);
    Group {
        key: [
            ("database", db.map(String::from)),
            ("user", user.map(String::from)),
            ("application", app.map(String::from)),
        ]
        .into_iter()
        .collect(),
        sessions: states.values().sum(),
        states,
        oldest_idle_seconds: oldest_idle,
        possible_leak,
        client_pids: Vec::new(),
        statement_text: None,
        statement_cut: None,
    }
}

fn pgbouncer_snapshot() -> PgbouncerSnapshot {
    PgbouncerSnapshot {
        target: "pgbouncer.example.com:6432/pgbouncer".into(),
        pools: vec![
            Pool {
                database: "app".into(),
                user: "web".into(),
                pool_mode: Some("transaction".into()),
                clients_active: 180,
                clients_waiting: 12,
                servers_active: 20,
                servers_idle: 0,
                servers_used: 0,
                servers_other: 0,
                max_wait_seconds: 1.25,
            },
            Pool {
                database: "reporting".into(),
                user: "analyst".into(),
                pool_mode: Some("session".into()),
                clients_active: 3,
                clients_waiting: 0,
                servers_active: 1,
                servers_idle: 2,
                servers_used: 0,
                servers_other: 0,
                max_wait_seconds: 0.0,
            },
        ],
        databases: vec![DatabaseEntry {
            name: "app".into(),
            host: Some("db1.example.com".into()),
            port: Some(5432),
            database: "app".into(),
            pool_size: 20,
            reserve_pool: 5,
            max_connections: 0,
            current_connections: 20,
        }],
        config: BTreeMap::new(),
        max_client_conn: Some(1000),
        default_pool_size: Some(20),
        reserve_pool_size: Some(5),
        pool_mode: Some("transaction".into()),
        server_pids: vec![4106, 4107, 4108],
        clients_active: 183,
        clients_waiting: 12,
        servers_active: 21,
        servers_idle: 2,
        servers_used: 0,
        max_wait_seconds: 1.25,
    }
}

/// db1: 97 usable slots, 60 used, a leak suspect `leaky-worker`, sessions idle in transaction, WARNING;
/// PgBouncer in front.
fn status_db1() -> StatusReport {
    let leak =
        "possible connection leak: application \"leaky-worker\" (user web, database app) holds 29 \
                sessions idle for longer than 10m00s (oldest 1h30m; 1 active)";
    StatusReport {
        connection: Default::default(),
        platform: Default::default(),
        target: DB1.into(),
        server: ServerInfo {
            version: "17.2".into(),
            version_num: 170002,
            current_user: "pgconn_monitor".into(),
            is_superuser: false,
        },
        capacity: Capacity {
            max_connections: 100,
            superuser_reserved_connections: 3,
            reserved_connections: Some(0),
            usable_slots: 97,
            used: 60,
            slots_left: 37,
            used_percent: 61.9,
            in_reserved_slots: 0,
            reserved_slots_left: 3,
            level: Level::Ok,
            provider_reserve: None,
        },
        sessions: 59,
        states: states(&[
            ("active", 8),
            ("idle", 41),
            ("idle_in_transaction", 7),
            ("idle_in_transaction_aborted", 1),
        ]),
        not_visible: 2,
        idle: IdleStats {
            count: 41,
            oldest_seconds: Some(5400.0),
            median_seconds: Some(620.5),
            p95_seconds: Some(4100.0),
        },
        oldest_transaction_seconds: Some(1830.0),
        oldest_idle_in_transaction_seconds: Some(1805.0),
        oldest_idle_in_transaction: Some(pgconn::report::status::IdleTransaction {
            pid: 4242,
            database: Some("appdb".into()),
            user: Some("billing".into()),
            application: "billing-api".into(),
            client: Some("10.0.0.7".into()),
            idle_seconds: 1805.0,
            transaction_seconds: Some(1811.5),
        }),
        new_sessions: pgconn::report::status::NewSessions {
            younger_than_seconds: 10,
            sessions: 2,
            share_percent: 3.4,
            storm: false,
        },
        session_counters: Some(vec![pgconn::report::status::SessionCounters {
            database: "app".into(),
            sessions: 1520,
            abandoned: 12,
            fatal: 3,
            killed: 29,
            session_time_seconds: 86400.5,
            active_time_seconds: 3600.25,
            idle_in_transaction_time_seconds: 120.75,
            stats_reset: None,
        }]),
        blocked_sessions: 0,
        head_blocker: None,
        activity_counts: Some(vec![
            pgconn::report::status::ActivityCount {
                datname: Some("appdb".into()),
                state: Some("idle".into()),
                usename: Some("app".into()),
                application_name: Some("leaky-worker".into()),
                backend_type: Some("client backend".into()),
                wait_event_type: Some("Client".into()),
                wait_event: Some("ClientRead".into()),
                count: 40,
                max_tx_duration: 0.0,
            },
            pgconn::report::status::ActivityCount {
                datname: Some("appdb".into()),
                state: Some("active".into()),
                ..Default::default()
            },
        ]),
        group_by: vec!["database", "user", "application"],
        groups: vec![
            group(
                Some("app"),
                Some("web"),
                Some("leaky-worker"),
                &[("active", 1), ("idle", 29), ("idle_in_transaction", 1)],
                Some(5400.0),
                true,
            ),
            group(
                Some("app"),
                Some("web"),
                Some("rails: puma cluster worker 3 (production)"),
                &[("active", 5), ("idle", 6), ("idle_in_transaction", 3)],
                Some(95.0),
                false,
            ),
            group(
                Some("reporting"),
                Some("analyst"),
                Some(EVIL),
                &[
                    ("active", 1),
                    ("idle", 2),
                    ("idle_in_transaction", 2),
                    ("idle_in_transaction_aborted", 1),
                ],
                Some(310.0),
                false,
            ),
            group(
                Some("app"),
                None,
                Some(""),
                &[("active", 1), ("idle", 3)],
                Some(42.0),
                false,
            ),
        ],
        groups_total: 6,
        leak_suspects: vec![LeakSuspect {
            database: Some("app".into()),
            user: Some("web".into()),
            application: "leaky-worker".into(),
            sessions: 31,
            idle: 29,
            idle_longer_than_threshold: 29,
            active: 1,
            oldest_idle_seconds: Some(5400.0),
            share_of_usable_percent: 29.9,
            reason: leak.into(),
            statement: None,
        }],
        verdict: Verdict {
            status: Level::Warning,
            reasons: vec![
                "7 session(s) idle in transaction for longer than 5m00s (oldest 30m05s): they hold locks \
                 and block vacuum"
                    .into(),
                leak.into(),
            ],
        },
        warnings: vec![not_visible_warning(
            2,
            "pgconn_monitor",
            "their state and ages are hidden, so state counts and ages leave them out; they are counted \
             as used",
        )],
        pgbouncer: Some(pgbouncer_snapshot()),
        via_pgbouncer: 3,
        limits: db1_limits(),
        limit_rows: Some(db1_limit_rows()),
    }
}

/// Every role and database of db1 as the Prometheus statement reads them.
fn db1_limit_rows() -> pgconn::report::status::LimitRows {
    use pgconn::report::status::{LimitRow, LimitRows};
    let row = |name: &str, limit: i32, superuser: bool| LimitRow {
        name: name.into(),
        limit,
        superuser,
        ..LimitRow::default()
    };
    LimitRows {
        roles: vec![
            row("postgres", 1, true),
            row("web", 32, false),
            row("billing", -1, false),
        ],
        databases: vec![row("app", -1, false), row("old_shop", -2, false)],
    }
}

/// db1's roles and databases with a connection limit: one near it, a superuser past it (not enforced), an
/// invalid database.
fn db1_limits() -> pgconn::report::status::Limits {
    use pgconn::report::status::{DatabaseLimit, Limits, RoleLimit};
    Limits {
        roles: vec![
            RoleLimit {
                user: "web".into(),
                limit: 32,
                sessions: 31,
                superuser: false,
                largest_application: Some("leaky-worker".into()),
                largest_application_sessions: 31,
                status: Level::Warning,
            },
            RoleLimit {
                user: "postgres".into(),
                limit: 1,
                sessions: 3,
                superuser: true,
                largest_application: Some("".into()),
                largest_application_sessions: 3,
                status: Level::Ok,
            },
        ],
        databases: vec![DatabaseLimit {
            database: "old_shop".into(),
            limit: None,
            invalid: true,
            sessions: 0,
            largest_application: None,
            largest_application_sessions: 0,
            status: Level::Ok,
        }],
        reasons: Vec::new(),
    }
}

/// db2: full — every ordinary slot taken and two sessions in the reserved ones: CRITICAL.
fn status_db2() -> StatusReport {
    let cap = Capacity {
        max_connections: 50,
        superuser_reserved_connections: 3,
        reserved_connections: Some(2),
        usable_slots: 45,
        used: 47,
        slots_left: 0,
        used_percent: 104.4,
        in_reserved_slots: 2,
        reserved_slots_left: 3,
        level: Level::Critical,
        provider_reserve: None,
    };
    let reason = format!("{} (critical at 95%)", cap.describe());
    StatusReport {
        connection: Default::default(),
        platform: Default::default(),
        target: DB2.into(),
        server: ServerInfo {
            version: "16.6".into(),
            version_num: 160006,
            current_user: "postgres".into(),
            is_superuser: true,
        },
        capacity: cap,
        sessions: 46,
        states: states(&[("active", 30), ("idle", 15), ("idle_in_transaction", 1)]),
        not_visible: 0,
        idle: IdleStats {
            count: 15,
            oldest_seconds: Some(75.0),
            median_seconds: Some(12.0),
            p95_seconds: Some(70.0),
        },
        oldest_transaction_seconds: Some(12.5),
        oldest_idle_in_transaction_seconds: Some(4.0),
        oldest_idle_in_transaction: None,
        blocked_sessions: 1,
        head_blocker: Some(pgconn::report::status::HeadBlocker {
            pid: 813,
            prepared_transaction: false,
            blocking: 1,
            state: Some(State::IdleInTransaction),
            database: Some("app".into()),
            user: Some("batch".into()),
            application: "nightly-import".into(),
            client: Some("10.0.9.3".into()),
            state_seconds: Some(75.0),
            transaction_seconds: Some(80.0),
        }),
        activity_counts: None,
        new_sessions: Default::default(),
        session_counters: None,
        limits: Default::default(),
        limit_rows: None,
        group_by: vec!["database", "user", "application"],
        groups: vec![group(
            Some("app"),
            Some("batch"),
            Some("nightly-import"),
            &[("active", 30), ("idle", 15), ("idle_in_transaction", 1)],
            Some(75.0),
            false,
        )],
        groups_total: 1,
        leak_suspects: vec![],
        verdict: Verdict {
            status: Level::Critical,
            reasons: vec![reason],
        },
        warnings: vec![],
        pgbouncer: None,
        via_pgbouncer: 0,
    }
}

struct S<'a> {
    pid: i32,
    db: Option<&'a str>,
    user: Option<&'a str>,
    app: &'a str,
    client: Option<&'a str>,
    state: Option<&'a str>,
    state_seconds: Option<f64>,
    xact: Option<f64>,
    wait: Option<(&'a str, &'a str)>,
    query: Option<&'a str>,
}

fn session(s: S) -> Session {
    Session {
        pid: s.pid,
        database: s.db.map(String::from),
        user: s.user.map(String::from),
        application: s.app.into(),
        client: s.client.map(String::from),
        client_port: s.client.filter(|c| *c != "local").map(|_| 51_000 + s.pid),
        state: s.state.map(State::parse),
        backend_start: Some("2024-03-15T08:00:00.000000Z".into()),
        query_start: Some("2024-03-15T09:44:00.000000Z".into()),
        connected_seconds: Some(8100.0),
        state_seconds: s.state_seconds,
        transaction_seconds: s.xact,
        query_seconds: s.state_seconds,
        never_queried: false,
        wait_event_type: s.wait.map(|w| w.0.to_string()),
        wait_event: s.wait.map(|w| w.1.to_string()),
        // a session waiting on a lock is shown with who holds it
        blocked_by: match s.wait {
            Some(("Lock", _)) => vec![813],
            _ => Vec::new(),
        },
        head_blocker: None,
        xmin_age: s.xact.map(|_| 1520),
        superuser: false,
        own_role: true,
        query: s.query.map(String::from),
        visible: s.state.is_some(),
        via_pgbouncer: false,
        process: None,
        query_id: None,
        query_cut: false,
        statement: None,
    }
}

/// Sessions with long queries and long application names: at 80 columns columns drop and cells are cut.
fn db1_sessions() -> Vec<Session> {
    let mut pooled = session(S {
        pid: 4106,
        db: Some("app"),
        user: Some("web"),
        app: "pgbouncer",
        client: Some("10.0.3.5"),
        state: Some("idle"),
        state_seconds: Some(3.2),
        xact: None,
        wait: Some(("Client", "ClientRead")),
        query: Some("DISCARD ALL"),
    });
    pooled.via_pgbouncer = true;
    vec![
        session(S {
            pid: 4101,
            db: Some("app"),
            user: Some("web"),
            app: "rails: puma cluster worker 3 (production)",
            client: Some("10.0.3.17"),
            state: Some("idle in transaction"),
            state_seconds: Some(1805.0),
            xact: Some(1830.0),
            wait: Some(("Client", "ClientRead")),
            query: Some(
                "UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = ANY($1) AND status = \
                 'paid' RETURNING id, customer_id",
            ),
        }),
        session(S {
            pid: 4102,
            db: Some("app"),
            user: Some("web"),
            app: "leaky-worker",
            client: Some("10.0.3.21"),
            state: Some("idle"),
            state_seconds: Some(5400.0),
            xact: None,
            wait: Some(("Client", "ClientRead")),
            query: Some("SELECT 1"),
        }),
        session(S {
            pid: 4103,
            db: Some("reporting"),
            user: Some("analyst"),
            app: "metabase-query-runner-for-the-finance-dashboard",
            client: Some("10.0.7.40"),
            state: Some("active"),
            state_seconds: Some(312.0),
            xact: Some(312.0),
            wait: Some(("IO", "DataFileRead")),
            query: Some(
                "SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id \
                 WHERE o.created_at > now() - interval '30 days' ORDER BY o.total DESC LIMIT 500",
            ),
        }),
        session(S {
            pid: 4104,
            db: Some("reporting"),
            user: Some("analyst"),
            app: EVIL,
            client: Some("local"),
            state: Some("idle in transaction (aborted)"),
            state_seconds: Some(310.0),
            xact: Some(400.0),
            wait: None,
            query: Some("SELECT pg_sleep(3600);\n-- a second line"),
        }),
        session(S {
            pid: 4105,
            db: Some("app"),
            user: None,
            app: "",
            client: None,
            state: None,
            state_seconds: None,
            xact: None,
            wait: None,
            query: None,
        }),
        pooled,
    ]
}

fn sessions_db1() -> SessionsReport {
    SessionsReport {
        connection: Default::default(),
        target: DB1.into(),
        count: 9,
        not_visible: 0,
        prepared_transactions: Vec::new(),
        sessions: db1_sessions(),
        remote_clients: Vec::new(),
        statements: Vec::new(),
        warnings: vec![],
    }
}

fn sessions_db2() -> SessionsReport {
    SessionsReport {
        connection: Default::default(),
        target: DB2.into(),
        count: 2,
        not_visible: 0,
        prepared_transactions: Vec::new(),
        sessions: vec![
            session(S {
                pid: 812,
                db: Some("app"),
                user: Some("batch"),
                app: "nightly-import",
                client: Some("10.0.9.3"),
                state: Some("active"),
                state_seconds: Some(12.5),
                xact: Some(12.5),
                wait: Some(("Lock", "transactionid")),
                query: Some("COPY staging.events FROM STDIN WITH (FORMAT csv)"),
            }),
            session(S {
                pid: 813,
                db: Some("app"),
                user: Some("batch"),
                app: "nightly-import",
                client: Some("10.0.9.3"),
                state: Some("idle"),
                state_seconds: Some(75.0),
                xact: None,
                wait: Some(("Client", "ClientRead")),
                query: Some("COMMIT"),
            }),
        ],
        remote_clients: Vec::new(),
        statements: Vec::new(),
        warnings: vec![],
    }
}

fn db3_failed<T>() -> TargetResult<T> {
    let line = format!(
        "connection to server at \"db3.example.com\" (10.0.4.9), port 5432 failed: FATAL:  database \
         \"{EVIL}\" does not exist"
    );
    TargetResult {
        warnings: Vec::new(),
        target: DB3.into(),
        ok: false,
        error: Some(format!(
            "{line}\nHINT:  check the dbname in the targets file"
        )),
        error_kind: Some(FailureKind::Refused),
        sqlstate: Some("3D000".into()),
        error_line: Some(line),
        report: None,
    }
}

fn ok<T>(target: &str, report: T) -> TargetResult<T> {
    TargetResult {
        warnings: Vec::new(),
        target: target.into(),
        ok: true,
        error: None,
        error_kind: None,
        sqlstate: None,
        error_line: None,
        report: Some(report),
    }
}

fn left_alone(pid: i32, user: &str, app: &str, p: Protection) -> LeftAlone {
    LeftAlone {
        pid,
        database: Some("app".into()),
        user: Some(user.into()),
        application: app.into(),
        state: Some(State::Idle),
        protection: p,
    }
}

/// kill-idle on db1: 12 matched; a superuser, two listeners, a lock holder and a pooler connection left
/// alone; two kept by --keep, one over --max; five targets, one this role may not signal.
fn kill_plan() -> KillReport {
    let s = db1_sessions();
    let idle = |pid: i32, app: &str, secs: f64| {
        session(S {
            pid,
            db: Some("app"),
            user: Some("web"),
            app,
            client: Some("10.0.3.21"),
            state: Some("idle"),
            state_seconds: Some(secs),
            xact: None,
            wait: Some(("Client", "ClientRead")),
            query: Some("SELECT 1"),
        })
    };
    // Another role's session: this role lacks pg_signal_backend and membership in it.
    let mut other_role = idle(4120, "", 2400.0);
    other_role.user = Some("jobs".into());
    other_role.own_role = false;
    let evil = Session {
        state: Some(State::Idle),
        state_seconds: Some(900.0),
        transaction_seconds: None,
        ..s[3].clone()
    };
    let targets = vec![
        KillTarget {
            session: s[1].clone(),
            allowed: true,
            blocker: None,
        },
        KillTarget {
            session: idle(4110, "leaky-worker", 5100.0),
            allowed: true,
            blocker: None,
        },
        KillTarget {
            session: idle(4111, "leaky-worker", 4800.0),
            allowed: true,
            blocker: None,
        },
        KillTarget {
            session: evil,
            allowed: true,
            blocker: None,
        },
        KillTarget {
            session: other_role,
            allowed: false,
            blocker: None,
        },
    ];
    // What the targets' clients receive, naming their applications (the evil one escaped, the one
    // without a name counted as such).
    let clients = Action::Terminate.clients_note(&targets).unwrap();
    KillReport {
        connection: Default::default(),
        target: DB1.into(),
        action: Action::Terminate,
        dry_run: false,
        matched: 12,
        not_visible: 2,
        protected: Protected {
            superuser: 1,
            listener: 2,
            advisory_lock: 1,
            pooler: 1,
            ..Protected::default()
        },
        left_alone: vec![
            left_alone(4130, "postgres", "psql", Protection::Superuser),
            left_alone(4131, "web", "notify-listener", Protection::Listener),
            left_alone(4132, "web", "notify-listener", Protection::Listener),
            left_alone(4133, "jobs", "que-worker", Protection::AdvisoryLock),
            left_alone(4106, "web", "pgbouncer", Protection::Pooler),
        ],
        kept: 2,
        capped: 1,
        if_more_than: None,
        threshold_met: true,
        blockers: None,
        targets,
        groups: vec![
            GroupSummary {
                database: Some("app".into()),
                user: Some("web".into()),
                application: "leaky-worker".into(),
                sessions: 3,
                oldest_state_seconds: Some(5400.0),
            },
            GroupSummary {
                database: Some("reporting".into()),
                user: Some("analyst".into()),
                application: EVIL.into(),
                sessions: 1,
                oldest_state_seconds: Some(900.0),
            },
            GroupSummary {
                database: Some("app".into()),
                user: Some("jobs".into()),
                application: "".into(),
                sessions: 1,
                oldest_state_seconds: Some(2400.0),
            },
        ],
        run: BatchRun {
            acted: false,
            wait_seconds: 5.0,
            results: vec![],
            summary: Summary::default(),
            observed: StateCounts::default(),
            log: None,
            log_complete: false,
            interrupted: None,
            error: None,
        },
        warnings: vec![],
        notes: vec![
            "sessions idle for less than 10m00s are not selected (--idle-longer-than)".into(),
            clients,
        ],
    }
}

fn outcome(t: &KillTarget, kind: OutcomeKind, reason: Option<&str>) -> SessionOutcome {
    let s = &t.session;
    SessionOutcome {
        pid: s.pid,
        backend_start: s.backend_start.clone(),
        database: s.database.clone(),
        user: s.user.clone(),
        application: s.application.clone(),
        client: s.client.clone(),
        state: s.state.clone(),
        state_seconds: s.state_seconds,
        query: s.query.clone(),
        outcome: kind,
        skip: (kind == OutcomeKind::Skipped).then_some(SkipReason::Changed),
        protection: None,
        reason: reason.map(String::from),
        state_now: match kind {
            OutcomeKind::Terminated => None,
            OutcomeKind::Skipped => Some(State::Active),
            _ => s.state.clone(),
        },
        at: Some("2024-03-15T10:15:03.120000Z".into()),
    }
}

/// The plan, executed: three terminated, one skipped (it became active), one denied.
fn kill_result() -> KillReport {
    let mut r = kill_plan();
    r.run.acted = true;
    r.run.results = vec![
        outcome(&r.targets[0], OutcomeKind::Terminated, None),
        outcome(&r.targets[1], OutcomeKind::Terminated, None),
        outcome(
            &r.targets[2],
            OutcomeKind::Skipped,
            Some("no longer matches: it is active now"),
        ),
        outcome(&r.targets[3], OutcomeKind::Terminated, None),
        outcome(
            &r.targets[4],
            OutcomeKind::Denied,
            Some(
                "permission denied to terminate process: only superusers, roles with privileges of the \
                 role whose process is being terminated or with privileges of pg_signal_backend may \
                 terminate this process",
            ),
        ),
    ];
    let mut summary = Summary {
        targeted: 5,
        ..Summary::default()
    };
    for o in &r.run.results {
        summary.add(o.outcome);
    }
    r.run.summary = summary;
    let counts = |a: i64, i: i64, t: i64| {
        [
            ("active".to_string(), a),
            ("idle".to_string(), i),
            ("idle_in_transaction".to_string(), t),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    };
    r.run.observed.before = Some(counts(8, 41, 7));
    r.run.observed.after = Some(counts(9, 37, 7));
    r.run.log = Some(PathBuf::from("/var/log/pgconn/kill-20240315T101500Z.jsonl"));
    r.run.log_complete = true;
    r
}

fn setting(name: &str, value: &str, source: &str, detail: Option<&str>) -> ShownSetting {
    ShownSetting {
        name: name.into(),
        value: value.into(),
        value_in_unit: None,
        unit: None,
        source: source.into(),
        source_detail: detail.map(String::from),
        server_value: value.into(),
        server_source: source.into(),
        context: "user".into(),
        restart_required: false,
        pending_restart: false,
        overrides: vec![],
        recommendation: Recommendation {
            level: "ok",
            value: None,
            reason: "fine".into(),
        },
        note: None,
    }
}

fn show_report() -> ShowReport {
    let mut idle_session = setting("idle_session_timeout", "0", "default", None);
    idle_session.value_in_unit = Some(0.0);
    idle_session.unit = Some("ms".into());
    idle_session.recommendation = Recommendation {
        level: "suggest",
        value: Some("30min".into()),
        reason: "sessions idle for hours hold their slot for good; 0 never ends them (leave it 0 behind a \
                 transaction pooler)"
            .into(),
    };
    let mut iit = setting(
        "idle_in_transaction_session_timeout",
        "5min",
        "configuration_file",
        Some("/etc/postgresql/16/main/postgresql.conf:812"),
    );
    iit.recommendation.reason = "open transactions idle longer than 5min are ended".into();
    let mut max = setting(
        "max_connections",
        "100",
        "configuration_file",
        Some("/etc/postgresql/16/main/postgresql.conf:64"),
    );
    max.context = "postmaster".into();
    max.restart_required = true;
    max.pending_restart = true;
    max.recommendation = Recommendation {
        level: "warning",
        value: None,
        reason: "a new value waits for a restart: the server still runs with 100".into(),
    };
    let mut statement = setting(
        "statement_timeout",
        "30s",
        "database",
        Some("database \"app\""),
    );
    statement.server_value = "0".into();
    statement.server_source = "default".into();
    statement.overrides = vec![
        Override {
            scope: "database",
            database: Some("app".into()),
            role: None,
            value: "30s".into(),
        },
        Override {
            scope: "role_in_database",
            database: Some("app".into()),
            role: Some("web".into()),
            value: "15s".into(),
        },
        Override {
            scope: "role",
            database: None,
            role: Some(EVIL.into()),
            value: "0".into(),
        },
    ];
    statement.recommendation.reason = "set for this database".into();
    let mut keepalive = setting("tcp_keepalives_idle", "0", "default", None);
    keepalive.recommendation = Recommendation {
        level: "suggest",
        value: Some("60".into()),
        reason: "a dead client holds its slot until the kernel gives up (about 2h by default)"
            .into(),
    };
    ShowReport {
        connection: Default::default(),
        target: DB1.into(),
        server_version: "16.6".into(),
        server_version_num: 160006,
        database: Some("app".into()),
        role: Some("web".into()),
        settings: vec![idle_session, iit, max, statement, keepalive],
        not_available: vec![NotAvailable {
            name: "transaction_timeout".into(),
            since_version_num: 170000,
        }],
        connection_limits: vec![
            ShownLimit {
                scope: "database",
                name: "app".into(),
                limit: 40,
                sessions: 23,
                superuser: None,
                invalid_database: false,
            },
            ShownLimit {
                scope: "role",
                name: "web".into(),
                limit: -1,
                sessions: 21,
                superuser: Some(false),
                invalid_database: false,
            },
        ],
        warnings: vec![
            "role \"pgconn_monitor\" may not read pg_file_settings: configuration-file lines are not shown"
                .into(),
        ],
    }
}

fn change(
    name: &str,
    input: Option<&str>,
    old: Option<&str>,
    new: Option<&str>,
    sql: Option<&str>,
) -> TuneChange {
    TuneChange {
        name: name.into(),
        input: input.map(String::from),
        old: old.map(String::from),
        new: new.map(String::from),
        unchanged: old == new,
        sql: sql.map(String::from),
        restart_required: false,
        in_effect_without: None,
        old_display: old.unwrap_or("not set").into(),
        new_display: new.unwrap_or("not set").into(),
    }
}

/// `tune set` for database "app": one new value, one unchanged, one normalised from the input; applied.
fn tune_database() -> ChangeReport {
    let scope = Scope::Database {
        database: "app".into(),
    };
    let mut idle_session = change(
        "idle_session_timeout",
        Some("30m"),
        None,
        Some("30min"),
        Some("ALTER DATABASE app SET idle_session_timeout = '30min'"),
    );
    idle_session.old_display = "not set (0, default)".into();
    ChangeReport {
        connection: Default::default(),
        action: "set",
        target: DB1.into(),
        server_version: "16.6".into(),
        scope_label: scope.label(),
        scope,
        dry_run: false,
        applied: true,
        changes: vec![
            idle_session,
            change(
                "idle_in_transaction_session_timeout",
                Some("5min"),
                Some("5min"),
                Some("5min"),
                None,
            ),
            change(
                "statement_timeout",
                Some("15000ms"),
                Some("30s"),
                Some("15s"),
                Some("ALTER DATABASE app SET statement_timeout = '15s'"),
            ),
        ],
        notes: vec!["database settings reach only sessions that connect after the change".into()],
        warnings: vec![
            "statement_timeout 15s cancels the reports of role \"analyst\" that run longer".into(),
        ],
        undoes: None,
        history_file: Some("/root/.local/state/pgconn/tune-history.jsonl".into()),
        history_id: Some("20240315T101500Z-3f2a".into()),
        platform: None,
        provider_commands: vec![],
        outcome: Some(ApplyOutcome {
            new_sessions_only: true,
            sessions_with_old_value: Some(23),
            sessions_not_visible: Some(2),
            reloaded: None,
            effects: vec![],
            connection_limit: None,
            next_steps: vec![
                "restart the application's connection pool to give its sessions the new values"
                    .into(),
            ],
        }),
    }
}

/// `tune set --system`: ALTER SYSTEM and a reload; one setting waits for a restart.
fn tune_system() -> ChangeReport {
    let scope = Scope::System;
    let mut max = change(
        "max_connections",
        Some("200"),
        None,
        Some("200"),
        Some("ALTER SYSTEM SET max_connections = '200'"),
    );
    max.restart_required = true;
    max.in_effect_without = Some(InEffect {
        value: "100".into(),
        source: "postgresql.conf line 64".into(),
    });
    max.old_display = "not set (100, postgresql.conf line 64)".into();
    let idle = change(
        "idle_session_timeout",
        Some("30min"),
        Some("1h"),
        Some("30min"),
        Some("ALTER SYSTEM SET idle_session_timeout = '30min'"),
    );
    let keep = change(
        "tcp_keepalives_idle",
        Some("60"),
        None,
        Some("60"),
        Some("ALTER SYSTEM SET tcp_keepalives_idle = '60'"),
    );
    let iit = change(
        "idle_in_transaction_session_timeout",
        Some("5min"),
        None,
        Some("5min"),
        Some("ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min'"),
    );
    let stmt = change(
        "statement_timeout",
        Some("1min"),
        None,
        Some("1min"),
        Some("ALTER SYSTEM SET statement_timeout = '1min'"),
    );
    ChangeReport {
        connection: Default::default(),
        action: "set",
        target: DB1.into(),
        server_version: "16.6".into(),
        scope_label: scope.label(),
        scope,
        dry_run: false,
        applied: true,
        changes: vec![max, idle, keep, iit, stmt],
        notes: vec![],
        warnings: vec![],
        undoes: None,
        history_file: Some("/root/.local/state/pgconn/tune-history.jsonl".into()),
        history_id: Some("20240315T102000Z-9c41".into()),
        platform: None,
        provider_commands: vec![],
        outcome: Some(ApplyOutcome {
            new_sessions_only: false,
            sessions_with_old_value: None,
            sessions_not_visible: None,
            reloaded: Some(true),
            connection_limit: None,
            effects: vec![
                Effect {
                    name: "max_connections".into(),
                    status: "pending_restart",
                    running_value: "100".into(),
                    pending_restart: true,
                },
                Effect {
                    name: "idle_session_timeout".into(),
                    status: "applied",
                    running_value: "30min".into(),
                    pending_restart: false,
                },
                Effect {
                    name: "tcp_keepalives_idle".into(),
                    status: "reloaded",
                    running_value: "0".into(),
                    pending_restart: false,
                },
                Effect {
                    name: "idle_in_transaction_session_timeout".into(),
                    status: "not_reloaded",
                    running_value: "0".into(),
                    pending_restart: false,
                },
                Effect {
                    name: "statement_timeout".into(),
                    status: "not_applied",
                    running_value: "0".into(),
                    pending_restart: false,
                },
            ],
            next_steps: vec![
                "restart the server for max_connections to take effect (pg_ctl restart, or systemctl \
                 restart postgresql)"
                    .into(),
            ],
        }),
    }
}

fn entry(id: &str, minute: u64, action: &str, scope: Scope, changes: Vec<ChangeRecord>) -> Entry {
    Entry {
        id: id.into(),
        time: humantime::format_rfc3339_seconds(at(minute * 60)).to_string(),
        action: action.into(),
        server: ServerRecord {
            target: DB1.into(),
            system_identifier: Some("7345678901234567890".into()),
            connection: serde_json::json!({"host": "db1.example.com", "port": 5432, "dbname": "app"}),
        },
        scope,
        changes,
        undoes: None,
    }
}

fn record(
    name: &str,
    old: Option<&str>,
    new: Option<&str>,
    in_effect: Option<&str>,
) -> ChangeRecord {
    ChangeRecord {
        name: name.into(),
        old: old.map(String::from),
        new: new.map(String::from),
        old_in_effect: in_effect.map(String::from),
    }
}

fn history_report() -> HistoryReport {
    let app = Scope::Database {
        database: "app".into(),
    };
    let first = entry(
        "20240315T101500Z-3f2a",
        0,
        "set",
        app.clone(),
        vec![
            record("idle_session_timeout", None, Some("30min"), None),
            record("statement_timeout", Some("30s"), Some("15s"), None),
        ],
    );
    let mut undo = entry(
        "20240315T103000Z-77b0",
        15,
        "undo",
        app,
        vec![
            record("idle_session_timeout", Some("30min"), None, None),
            record("statement_timeout", Some("15s"), Some("30s"), None),
        ],
    );
    undo.undoes = Some(first.id.clone());
    let system = entry(
        "20240315T104500Z-c0de",
        30,
        "set",
        Scope::System,
        vec![record(
            "idle_in_transaction_session_timeout",
            None,
            Some("5min"),
            Some("1min (postgresql.conf line 812)"),
        )],
    );
    let failed = entry(
        "20240315T110000Z-dead",
        45,
        "reset",
        Scope::RoleInDatabase {
            role: EVIL.into(),
            database: "reporting".into(),
        },
        vec![record("statement_timeout", Some("0"), None, None)],
    );
    HistoryReport {
        history_file: "/root/.local/state/pgconn/tune-history.jsonl".into(),
        entries: vec![
            Listed {
                entry: first,
                status: "undone",
                undone_by: Some("20240315T103000Z-77b0".into()),
                error: None,
            },
            Listed {
                entry: undo,
                status: "applied",
                undone_by: None,
                error: None,
            },
            Listed {
                entry: system,
                status: "applied",
                undone_by: None,
                error: None,
            },
            Listed {
                entry: failed,
                status: "failed",
                undone_by: None,
                error: Some("permission denied to set parameter \"statement_timeout\"".into()),
            },
        ],
        skipped_lines: 1,
        unreadable: vec![Unreadable {
            line: 3,
            reason: "expected value at line 1 column 1".into(),
        }],
    }
}

fn measurement(
    name: &'static str,
    value: f64,
    unit: &'static str,
    limits: [Option<f64>; 4],
) -> Measurement {
    Measurement {
        name,
        value,
        unit,
        warning: limits[0],
        critical: limits[1],
        min: limits[2],
        max: limits[3],
    }
}

fn thresholds() -> ThresholdSettings {
    ThresholdSettings {
        warning: "80%".into(),
        critical: "95%".into(),
        idle_warning: Some(20),
        idle_critical: None,
        idle_age_seconds: 600.0,
        leak_idle_age_seconds: 600.0,
        leak_min_sessions: 10,
        leak_share_percent: 25.0,
        idle_in_transaction_warning_seconds: Some(300.0),
        idle_in_transaction_critical_seconds: Some(3600.0),
        unreachable: Level::Critical,
    }
}

/// What `check` judges of a status report (the measurements as evaluate writes them).
fn check_target(target: &str, r: StatusReport, idle_long: usize) -> CheckTarget {
    let c = &r.capacity;
    let usable = f64::from(c.usable_slots);
    let st = |k: &str| r.states.get(k).copied().unwrap_or(0) as f64;
    let iit = pgconn::report::idle_in_transaction(&r.states) as f64;
    let oldest = r.oldest_idle_in_transaction_seconds;
    let (status, summary, reasons) = if c.in_reserved_slots > 0 {
        let s = format!("{} (critical at 95%)", c.describe());
        (
            Level::Critical,
            format!("{s}; 15 idle longer than 10m; oldest idle in transaction 4s"),
            vec![s],
        )
    } else {
        let idle = format!("{idle_long} idle longer than 10m (warning at 20)");
        let tx = format!(
            "oldest idle in transaction {} (warning at 5m)",
            pgconn::report::opt_age(oldest)
        );
        (
            Level::Warning,
            format!("{idle}; {tx}; {}", c.describe()),
            vec![idle, tx],
        )
    };
    CheckTarget {
        target: target.into(),
        status,
        summary,
        reasons,
        error: None,
        error_kind: None,
        sqlstate: None,
        measurements: vec![
            measurement(
                "used",
                c.used as f64,
                "",
                [
                    Some((usable * 0.8).ceil()),
                    Some((usable * 0.95).ceil()),
                    Some(0.0),
                    Some(f64::from(c.max_connections)),
                ],
            ),
            measurement(
                "reserved_used",
                c.in_reserved_slots as f64,
                "",
                [
                    None,
                    None,
                    Some(0.0),
                    Some(f64::from(c.max_connections - c.usable_slots)),
                ],
            ),
            measurement(
                "slots_left",
                c.slots_left as f64,
                "",
                [None, None, Some(0.0), Some(usable)],
            ),
            measurement(
                "max_connections",
                f64::from(c.max_connections),
                "",
                [None; 4],
            ),
            measurement("active", st("active"), "", [None; 4]),
            measurement("idle", st("idle"), "", [None; 4]),
            measurement("idle_in_transaction", iit, "", [None; 4]),
            measurement(
                "idle_long",
                idle_long as f64,
                "",
                [Some(20.0), None, Some(0.0), None],
            ),
            measurement(
                "oldest_idle_in_transaction",
                oldest.unwrap_or(0.0),
                "s",
                [Some(300.0), Some(3600.0), Some(0.0), None],
            ),
        ],
        warnings: vec![],
        report: Some(r),
    }
}

fn check_failed() -> CheckTarget {
    let line = "connection to server at \"db3.example.com\" (10.0.4.9), port 5432 failed: Connection \
                refused\n\tIs the server running on that host and accepting TCP/IP connections? | see runbook";
    CheckTarget {
        target: DB3.into(),
        status: Level::Critical,
        summary: format!("unreachable: {line}"),
        reasons: vec![format!("unreachable: {line}")],
        error: Some(line.into()),
        error_kind: Some(FailureKind::Unreachable),
        sqlstate: None,
        measurements: vec![],
        warnings: vec![],
        report: None,
    }
}

fn check_one() -> CheckReport {
    let t = check_target(DB1, status_db1(), 29);
    CheckReport {
        status: t.status,
        exit_code: t.status.nagios_code(),
        summary: t.summary.clone(),
        thresholds: thresholds(),
        targets: vec![t],
    }
}

fn check_many() -> CheckReport {
    let targets = vec![
        check_target(DB1, status_db1(), 29),
        check_target(DB2, status_db2(), 15),
        check_failed(),
    ];
    let status = Level::worst(targets.iter().map(|t| t.status));
    CheckReport {
        status,
        exit_code: status.nagios_code(),
        summary: format!(
            "3 targets: 2 CRITICAL, 1 WARNING ({DB1} WARNING, {DB2} CRITICAL, {DB3} CRITICAL)"
        ),
        thresholds: thresholds(),
        targets,
    }
}

fn advise_report() -> AdviseReport {
    AdviseReport {
        connection: Default::default(),
        target: DB1.into(),
        server_version: "17.2".into(),
        capacity: status_db1().capacity,
        sessions: 59,
        findings: vec![
            Finding {
                id: "leak".into(),
                severity: Severity::Critical,
                title: "application \"leaky-worker\" leaks connections".into(),
                evidence: vec![
                    "29 of its 31 sessions idle for longer than 10m00s (oldest 1h30m)".into(),
                    "they hold 30% of the 97 slots ordinary roles can use".into(),
                ],
                why: "a pool that never returns connections grows until the server refuses everyone with \
                      \"sorry, too many clients already\""
                    .into(),
                recommendation: "end idle sessions after 30 minutes for its role, then fix the pool's \
                                 maximum lifetime in the application"
                    .into(),
                commands: vec![
                    "pgconn tune set idle_session_timeout=30min --role web --database app".into(),
                    "pgconn kill-idle --app leaky-worker --idle-longer-than 10m --dry-run".into(),
                ],
                config: None,
                rank: 0,
            },
            Finding {
                id: "idle_in_transaction".into(),
                severity: Severity::Warning,
                title: "sessions stay idle in transaction".into(),
                evidence: vec![
                    "7 sessions idle in transaction, the oldest for 30m05s".into(),
                    format!("application \"{EVIL}\" (user analyst, database reporting): 3 of them"),
                ],
                why: "an open transaction holds its locks and keeps vacuum from removing dead rows".into(),
                recommendation: "let the server end them".into(),
                commands: vec![
                    "pgconn tune set --preset leak-guard --database app".into(),
                ],
                config: None,
                rank: 0,
            },
            Finding {
                id: "pooler".into(),
                severity: Severity::Info,
                title: "clients wait for PgBouncer's pool app/web".into(),
                evidence: vec!["12 clients waiting, the longest 1.250s; pool_size 20".into()],
                why: "the pool is smaller than the demand at peak".into(),
                recommendation: "raise default_pool_size to 30 (the server has room: 37 slots left)".into(),
                commands: vec![],
                config: Some(
                    "[databases]\napp = host=db1.example.com port=5432 dbname=app\n\n[pgbouncer]\npool_mode = \
                     transaction\ndefault_pool_size = 30\nreserve_pool_size = 5\nmax_client_conn = 1000"
                        .into(),
                ),
                rank: 0,
            },
        ],
        skipped: vec![
            "pg_file_settings (needs a superuser): configuration-file values are assumed to be what \
             pg_settings shows"
                .into(),
        ],
        pgbouncer: Some(pgbouncer_snapshot()),
        churn: Vec::new(),
        sampling: None,
    }
}

fn history(points: &[(i64, usize, usize)]) -> Vec<Option<Point>> {
    points
        .iter()
        .map(|&(used, idle, tx)| {
            (used >= 0).then_some(Point {
                used,
                idle,
                idle_in_transaction: tx,
            })
        })
        .collect()
}

/// db1's last 30 samples: climbing, one failed attempt (a gap) in the middle.
fn db1_history() -> Vec<Option<Point>> {
    let mut pts = Vec::new();
    for i in 0..30i64 {
        if i == 17 {
            pts.push((-1, 0, 0));
        } else {
            pts.push((30 + i, (20 + i / 2) as usize, (i % 8) as usize));
        }
    }
    pts.push((60, 41, 8));
    history(&pts)
}

fn view(target: &str, report: Option<StatusReport>) -> TargetView {
    TargetView {
        target: target.into(),
        report,
        change: Some(Delta {
            used: 3,
            idle: 2,
            idle_in_transaction: -1,
        }),
        churn: vec![pgconn::report::watch::Churn {
            database: "app".into(),
            seconds: 2.0,
            reset: false,
            sessions_started: Some(3),
            abandoned: Some(0),
            fatal: Some(0),
            killed: Some(1),
            sessions_per_second: Some(1.5),
            abandoned_per_minute: Some(0.0),
            fatal_per_minute: Some(0.0),
            killed_per_minute: Some(30.0),
        }],
        history: db1_history(),
        down: None,
        attempted: true,
        reconnected: false,
    }
}

/// Instants: `base` stands for the moment of the frame; retries are due relative to it.
fn down(error: &str, since: u64, backoff: u64, retry_in_ms: u64, base: Instant) -> Down {
    Down {
        error: error.into(),
        since: at(since),
        backoff: Duration::from_secs(backoff),
        retry_at: base + Duration::from_millis(retry_in_ms),
    }
}

fn round_one(_base: Instant) -> Round {
    Round {
        time: at(120),
        number: 61,
        interval: Duration::from_secs(2),
        targets: vec![view(DB1, Some(status_db1()))],
    }
}

/// db1 up; db2 down after a sample (its last one kept); db3 never reached; a fourth not sampled yet.
fn round_many(base: Instant) -> Round {
    let mut db2 = view(DB2, Some(status_db2()));
    db2.history = history(&[
        (44, 15, 1),
        (46, 15, 1),
        (47, 15, 1),
        (-1, 0, 0),
        (-1, 0, 0),
    ]);
    db2.change = None;
    db2.down = Some(down(
        "connection to server at \"db2.example.com\" (10.0.4.8), port 5432 failed: FATAL:  sorry, too \
         many clients already",
        100,
        8,
        5_500,
        base,
    ));
    let mut db3 = view(DB3, None);
    db3.history = history(&[(-1, 0, 0), (-1, 0, 0)]);
    db3.change = None;
    db3.down = Some(down(
        &format!("FATAL:  database \"{EVIL}\" does not exist"),
        0,
        30,
        29_000,
        base,
    ));
    let mut db1 = view(DB1, Some(status_db1()));
    db1.reconnected = true;
    let db4 = TargetView {
        target: "db4.example.com:5432/app".into(),
        report: None,
        change: None,
        churn: Vec::new(),
        history: vec![],
        down: None,
        attempted: false,
        reconnected: false,
    };
    Round {
        time: at(120),
        number: 61,
        interval: Duration::from_secs(2),
        targets: vec![db1, db2, db3, db4],
    }
}

/// One target, away: its last sample is kept under the retry line.
fn round_down(base: Instant) -> Round {
    let mut r = round_one(base);
    r.targets[0].down = Some(down(
        "connection to server at \"db1.example.com\" (10.0.4.7), port 5432 failed: Connection refused",
        60,
        4,
        3_200,
        base,
    ));
    r.targets[0].history.push(None);
    r
}

// ---------------------------------------------------------------------------------------------------
// The snapshots
// ---------------------------------------------------------------------------------------------------

#[test]
fn status() {
    let text = snap_widths("status", |st| render::status::human(&status_db1(), st));
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
    // At 80 columns (where every line fits, as in every view): every group is one row (no name wrapped
    // inside its cell; a long one is cut with …), OTHER and ACTIVE gone, OLDEST IDLE kept.
    let groups = status_db1().groups.len();
    for key in ["80_plain", "80_color"] {
        let rows = first_table_rows(&text[key]);
        assert_eq!(rows.len(), groups, "{key}: {rows:#?}");
        assert!(rows.iter().all(|r| !r.starts_with("  ")), "{rows:#?}");
        assert!(rows.iter().any(|r| r.contains("rails: puma…")), "{rows:#?}");
    }
    let header = table_lines(&text["80_plain"])[0].to_string();
    assert!(
        !header.contains("OTHER") && !header.contains("ACTIVE") && header.contains("OLDEST IDLE"),
        "{header}"
    );
    // Piped, nothing is cut or wrapped.
    assert!(text["piped_plain"].contains("rails: puma cluster worker 3 (production)"));
    assert!(text["piped_plain"]
        .lines()
        .any(|l| l.starts_with("  capacity") && l.contains("pg_use_reserved_connections")));
    snap_human(
        "status_full_piped_plain",
        &render::status::human(&status_db2(), &style(None, false)),
        &style(None, false),
    );
}

#[test]
fn sessions() {
    let text = snap_widths("sessions", |st| {
        render::sessions::human(&sessions_db1(), st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
    // At 80 columns the optional columns go first.
    let header = strip_ansi(text["80_plain"].lines().next().unwrap());
    assert!(
        !header.contains("WAIT") && header.contains("QUERY"),
        "{header}"
    );
    let empty = SessionsReport {
        connection: Default::default(),
        target: DB1.into(),
        count: 0,
        not_visible: 0,
        prepared_transactions: Vec::new(),
        sessions: vec![],
        remote_clients: Vec::new(),
        statements: Vec::new(),
        warnings: vec![],
    };
    let st = style(Some(80), false);
    snap_human("sessions_none", &render::sessions::human(&empty, &st), &st);
}

#[test]
fn kill_preview() {
    let text = snap_widths("kill_preview", |st| render::kill::preview(&kill_plan(), st));
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
    // The note on what the clients receive: escaped, named, on one line piped, and wrapped under its
    // text at 80 columns.
    let note = text["piped_plain"]
        .lines()
        .find(|l| l.contains("57P01"))
        .unwrap_or_else(|| panic!("{}", text["piped_plain"]));
    assert!(
        note.starts_with("  note: ")
            && note.contains(&format!("\"{EVIL_SHOWN}\" (1 session)"))
            && note.contains("\"leaky-worker\" (3 sessions)")
            && note.ends_with("1 session without an application_name"),
        "{note}"
    );
    let at_80: Vec<&str> = text["80_plain"]
        .lines()
        .skip_while(|l| !l.contains("57P01"))
        .take_while(|l| !l.starts_with(" PID"))
        .collect();
    assert!(at_80.len() > 1, "{}", text["80_plain"]);
    assert!(
        at_80[1..]
            .iter()
            .all(|l| l.starts_with("        ") && l.chars().count() <= 80),
        "{at_80:#?}"
    );

    let st = style(None, false);
    let mut dry = kill_plan();
    dry.dry_run = true;
    snap_human(
        "kill_preview_dry_run_piped_plain",
        &render::kill::preview(&dry, &st),
        &st,
    );
    let mut below = kill_plan();
    below.if_more_than = Some(10);
    below.threshold_met = false;
    // Nothing is acted on: the plan has no note on what clients receive.
    below.notes.retain(|n| !n.contains("57P01"));
    snap_human(
        "kill_preview_threshold_not_met_piped_plain",
        &render::kill::preview(&below, &st),
        &st,
    );
}

#[test]
fn kill_results() {
    let text = snap_widths("kill_results", |st| {
        render::kill::results(&kill_result(), st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));

    let mut stopped = kill_result();
    stopped.run.results.truncate(2);
    stopped.run.summary = Summary {
        targeted: 5,
        terminated: 1,
        signalled: 1,
        not_attempted: 3,
        ..Summary::default()
    };
    stopped.run.results[1].outcome = OutcomeKind::Signalled;
    stopped.run.results[1].reason = Some("still there after --wait 5s".into());
    stopped.run.observed.before = None;
    stopped.run.observed.after = None;
    stopped.run.log_complete = false;
    stopped.run.interrupted = Some("SIGTERM".into());
    let st = style(None, false);
    snap_human(
        "kill_results_interrupted_piped_plain",
        &render::kill::results(&stopped, &st),
        &st,
    );
}

#[test]
fn tune_show() {
    let text = snap_widths("tune_show", |st| render::tune::show(&show_report(), st));
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
}

#[test]
fn tune_plan() {
    snap_widths("tune_plan", |st| render::tune::plan(&tune_database(), st));
    let st = style(None, false);
    snap_human(
        "tune_plan_system_piped_plain",
        &render::tune::plan(&tune_system(), &st),
        &st,
    );
}

#[test]
fn tune_result() {
    // A database scope: no table, the same at every width.
    snap_colours("tune_result_database", |st| {
        render::tune::result(&tune_database(), st)
    });
    snap_widths("tune_result_system", |st| {
        render::tune::result(&tune_system(), st)
    });

    let st = style(None, false);
    let mut dry = tune_database();
    dry.dry_run = true;
    dry.applied = false;
    let mut nothing = tune_database();
    nothing.changes.retain(|c| c.unchanged);
    let text = format!(
        "{}{}",
        render::tune::result(&dry, &st),
        render::tune::result(&nothing, &st)
    );
    snap_human("tune_result_dry_run_and_nothing_piped_plain", &text, &st);

    // --system on a managed platform: nothing applied, the provider's commands (hostile text escaped).
    let mut managed = tune_system();
    managed.applied = false;
    managed.history_file = None;
    managed.history_id = None;
    managed.outcome = None;
    for c in &mut managed.changes {
        c.sql = None;
    }
    managed.platform = Some(pgconn::report::platform::Platform::CloudSql);
    managed.scope_label = managed.scope.label_on(managed.platform);
    managed.provider_commands = vec![
        pgconn::report::tune::ProviderCommand {
            step: 1,
            command: "gcloud sql instances describe '<instance-name>' \
                      --format='value(settings.databaseFlags)'"
                .into(),
            why: "the flags set now: every one of them must be repeated in the next step".into(),
        },
        pgconn::report::tune::ProviderCommand {
            step: 2,
            command: format!(
                "gcloud sql instances patch '<instance-name>' \
                 --database-flags='<every-existing-flag>,max_connections=200,{EVIL}'"
            ),
            why: "--database-flags replaces the whole list\x1b[2J".into(),
        },
    ];
    snap_human(
        "tune_result_managed_piped_plain",
        &render::tune::result(&managed, &st),
        &st,
    );
    // Its plan's header says what happens there: nothing applied, the provider's commands.
    let plan = render::tune::plan(&managed, &st);
    let header = plan.lines().next().unwrap_or_default();
    assert!(
        header.contains("the whole server, through the provider (nothing applied here)")
            && !header.contains("ALTER SYSTEM"),
        "{plan}"
    );
    snap_human("tune_plan_managed_piped_plain", &plan, &st);
}

#[test]
fn tune_history() {
    let text = snap_widths("tune_history", |st| {
        render::tune::history(&history_report(), st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
}

#[test]
fn tune_presets() {
    snap_colours("tune_presets", |st| {
        render::tune::presets(&pgconn::commands::tune::presets_report(), st)
    });
}

#[test]
fn check_nagios() {
    insta::assert_snapshot!(
        "check_nagios_one",
        render::check::nagios(&check_one(), false)
    );
    let many = render::check::nagios(&check_many(), true);
    // Plugin lines: the summary line, then one per target; no line break or `|` from a message.
    assert_eq!(many.lines().count(), 4);
    assert_eq!(many.matches('|').count(), 1);
    insta::assert_snapshot!("check_nagios_many", many);
    insta::assert_snapshot!(
        "check_nagios_unknown",
        render::check::nagios_unknown(
            "--warning 95% is not below --critical 90%\n(see --help) | x"
        )
    );
}

#[test]
fn check_prometheus() {
    let text = render::check::prometheus(&check_many());
    insta::assert_snapshot!("check_prometheus", text);
}

#[test]
fn check_unknown_json() {
    insta::assert_snapshot!(
        "check_unknown_json",
        render::check::unknown_json(
            "cannot read the targets file /etc/pgconn/targets: No such file"
        )
        .unwrap()
    );
}

#[test]
fn advise() {
    let text = snap_colours("advise", |st| render::advise::human(&advise_report(), st));
    assert!(text.contains(EVIL_SHOWN));
    let mut none = advise_report();
    none.findings.clear();
    none.skipped.clear();
    none.pgbouncer = None;
    let st = style(None, false);
    snap_human(
        "advise_no_findings_plain",
        &render::advise::human(&none, &st),
        &st,
    );
}

#[test]
fn fleet_status() {
    let text = snap_widths("fleet_status", |st| {
        let outcomes = vec![ok(DB1, status_db1()), ok(DB2, status_db2()), db3_failed()];
        render::fleet::status(&outcomes, 4, st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
}

#[test]
fn fleet_sessions() {
    let text = snap_widths("fleet_sessions", |st| {
        let outcomes = vec![
            ok(DB1, sessions_db1()),
            ok(DB2, sessions_db2()),
            db3_failed(),
        ];
        render::fleet::sessions(&outcomes, st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
}

#[test]
fn watch_lines() {
    let base = Instant::now();
    let text = render::watch::lines(&round_many(base));
    check_human("watch_lines", &text, &style(None, false));
    assert!(text.contains(EVIL_SHOWN));
    insta::assert_snapshot!("watch_lines", text);
}

#[test]
fn watch_json_lines() {
    let base = Instant::now();
    let text = render::watch::json_lines(&round_many(base)).unwrap();
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    insta::assert_snapshot!("watch_json_lines", text);
}

/// The full-screen frame is always fitted (watch passes the terminal's size): 80 and 160 columns.
fn snap_frames(name: &str, round: impl Fn(Instant) -> Round) {
    let base = Instant::now();
    // The frame is drawn 2.5 s after `base`: retries are due relative to it.
    let now = base + Duration::from_millis(2_500);
    for (cols, wname) in [(80u16, "80"), (160, "160")] {
        for (color, cname) in COLOURS {
            let st = style(Some(cols), color);
            let lines = render::watch::frame(&round(base), cols, 40, &st, now);
            assert!(lines.len() <= 40);
            let text = lines.join("\n") + "\n";
            let key = format!("{wname}_{cname}");
            let name = format!("{name}_{key}");
            if snapshotted(&key) {
                snap_human(&name, &text, &st);
            } else {
                check_human(&name, &text, &st);
            }
            has_table(&name, &text);
            every_line_fits(&name, &text, usize::from(cols));
            assert!(
                first_table_rows(&text).iter().all(|r| !r.starts_with("  ")),
                "{name}: a row continued on a second line:\n{text}"
            );
        }
    }
}

#[test]
fn watch_frame_one() {
    snap_frames("watch_frame_one", round_one);
}

#[test]
fn watch_frame_many() {
    snap_frames("watch_frame_many", round_many);
}

#[test]
fn watch_frame_down() {
    let base = Instant::now();
    let st = style(Some(80), false);
    let text = render::watch::frame(&round_down(base), 80, 40, &st, base).join("\n") + "\n";
    snap_human("watch_frame_down_80_plain", &text, &st);
    let st = style(Some(80), true);
    snap_human(
        "watch_connecting_color",
        &(render::watch::connecting(&st).join("\n") + "\n"),
        &st,
    );
}

#[test]
fn prometheus_status() {
    let text = render::prometheus::status(&[
        (DB1, Ok(&status_db1())),
        (DB2, Ok(&status_db2())),
        (DB3, Err(FailureKind::Unreachable)),
    ]);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert!(!scrape.samples.is_empty());
    insta::assert_snapshot!("prometheus_status", text);
}

#[test]
fn status_json() {
    insta::assert_snapshot!("status_json", render::pretty_json(&status_db1()).unwrap());
}

#[test]
fn status_over_the_emergency_route() {
    let mut r = status_db2();
    r.connection = pgconn::report::ConnectionRoute::replication(
        "the server refused a normal connection: sorry, too many clients already (SQLSTATE 53300)",
    );
    let st = style(None, false);
    let text = render::status::human(&r, &st);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("via a WAL sender slot (replication=database))"),
        "{text}"
    );
    snap_human("status_via_replication_piped_plain", &text, &st);
    let json = render::pretty_json(&r).unwrap();
    assert!(json.contains("\"via\": \"replication\""));
    insta::assert_snapshot!("status_via_replication_json", json);
}

fn backend(
    pid: i32,
    user: &str,
    activity: &str,
    connected: f64,
) -> pgconn::report::rescue::Backend {
    pgconn::report::rescue::Backend {
        pid,
        started_at: "1970-01-01T00:00:00Z".into(),
        connected_seconds: connected,
        user: user.into(),
        database: "appdb".into(),
        client: "10.0.0.7".into(),
        client_port: Some(51000 + pid as u16),
        state: Some(if activity == "idle" {
            State::Idle
        } else {
            State::Active
        }),
        activity: activity.into(),
        title: format!(
            "postgres: {user} appdb 10.0.0.7({}) {activity}",
            51000 + pid
        ),
        start_ticks: pid as u64,
        evidence: Some(pgconn::report::rescue::Evidence::ConfigUnchanged),
    }
}

fn rescue_plan() -> pgconn::report::rescue::RescueReport {
    use pgconn::report::rescue::*;
    let targets = vec![
        backend(4101, "app", "idle", 7200.0),
        backend(4102, "app", "idle", 3600.0),
        backend(4103, EVIL, "idle", 60.0),
    ];
    let mut all = targets.clone();
    all.push(backend(4104, "app", "SELECT", 30.0));
    let groups = vec![
        Group {
            database: "appdb".into(),
            user: "app".into(),
            backends: 2,
            longest_connected_seconds: 7200.0,
        },
        Group {
            database: "appdb".into(),
            user: EVIL.into(),
            backends: 1,
            longest_connected_seconds: 60.0,
        },
    ];
    // What the targets' clients receive, naming the users: the evil one shows escaped.
    let notes = vec![
        "process titles carry no application_name".into(),
        clients_note(&groups),
    ];
    RescueReport {
        cluster: ClusterInfo {
            host: "db1".into(),
            pgdata: "/var/lib/postgresql/15/main".into(),
            postmaster_pid: 4000,
            port: Some(5432),
            socket_dir: Some("/var/run/postgresql".into()),
            cluster_name: "15/main".into(),
            update_process_title: None,
            update_process_title_source: None,
            configuration_changed_at: Some("1970-01-01T00:00:00Z".into()),
            configuration_changed: Some("/etc/postgresql/15/main/postgresql.conf".into()),
        },
        action: Action::Terminate,
        dry_run: false,
        selection: Selection {
            states: vec![State::Idle],
            ..Selection::default()
        },
        processes: 11,
        states: states(&[("active", 1), ("idle", 3)]),
        client_backends: all,
        other_processes: vec![
            OtherProcess {
                pid: 4001,
                kind: "checkpointer".into(),
                why: None,
            },
            OtherProcess {
                pid: 4300,
                kind: "not a backend".into(),
                why: Some(format!(
                    "it runs /usr/bin/sleep{EVIL}, not the postmaster's executable"
                )),
            },
        ],
        unreadable: vec![Unreadable {
            pid: 4200,
            title: format!("postgres: 15/main: my app appdb [local] idle {EVIL}"),
            reason: "it reads 2 ways".into(),
        }],
        untrusted: vec![Unreadable {
            pid: 4105,
            title: format!("postgres: 15/main: app appdb [local] idle{EVIL}"),
            reason: "it connected before the configuration last changed, and the kernel does not \
                     show it waiting for its client"
                .into(),
        }],
        matched: 4,
        kept: 0,
        capped: 0,
        groups,
        targets,
        run: BatchRun {
            acted: false,
            wait_seconds: 5.0,
            results: vec![],
            summary: Summary {
                targeted: 3,
                ..Summary::default()
            },
            observed: Afterwards::default(),
            log: Some("/var/log/pgconn/rescue.log".into()),
            log_complete: false,
            interrupted: None,
            error: None,
        },
        warnings: vec![],
        notes,
    }
}

#[test]
fn rescue_preview_and_results() {
    use pgconn::report::rescue::{After, RescueOutcome};
    let text = snap_widths("rescue_preview", |st| {
        render::rescue::preview(&rescue_plan(), st)
    });
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
    let note = text["piped_plain"]
        .lines()
        .find(|l| l.contains("57P01"))
        .unwrap_or_else(|| panic!("{}", text["piped_plain"]));
    assert!(
        note.contains(&format!(
            "user \"{EVIL_SHOWN}\", database \"appdb\" (1 backend)"
        )),
        "{note}"
    );

    let mut done = rescue_plan();
    done.run.acted = true;
    let result =
        |t: &pgconn::report::rescue::Backend, o: OutcomeKind, reason: Option<&str>| RescueOutcome {
            pid: t.pid,
            started_at: t.started_at.clone(),
            user: t.user.clone(),
            database: t.database.clone(),
            client: t.client.clone(),
            state: t.state.clone(),
            outcome: o,
            skip: (o == OutcomeKind::Skipped).then_some(SkipReason::Changed),
            reason: reason.map(String::from),
            title_now: None,
            state_now: (o == OutcomeKind::Skipped).then_some(State::Active),
            at: None,
        };
    done.run.results = vec![
        result(&done.targets[0], OutcomeKind::Terminated, None),
        result(&done.targets[1], OutcomeKind::Terminated, None),
        result(
            &done.targets[2],
            OutcomeKind::Skipped,
            Some("its title changed: it no longer matches"),
        ),
    ];
    done.run.summary = Summary {
        targeted: 3,
        terminated: 2,
        skipped: 1,
        ..Summary::default()
    };
    done.run.log_complete = true;
    done.run.observed.after = Some(After {
        warnings: Vec::new(),
        target: "/var/run/postgresql:5432/postgres".into(),
        connected: true,
        error: None,
        status: Some(status_db1()),
    });
    let text = snap_widths("rescue_results", |st| render::rescue::results(&done, st));
    assert!(text["piped_plain"].contains(EVIL_SHOWN));
    done.run.observed.after = Some(After {
        warnings: Vec::new(),
        target: "/var/run/postgresql:5432/root".into(),
        connected: false,
        error: Some("role \"root\" does not exist".into()),
        status: None,
    });
    let st = style(None, false);
    snap_human(
        "rescue_results_still_refused_piped_plain",
        &render::rescue::results(&done, &st),
        &st,
    );
}

/// A state a newer server reports is counted, and status and watch show it alike (both print the
/// states of one rule: active, idle and idle in transaction always, any other when counted).
#[test]
fn a_newer_servers_state_is_shown_by_status_and_watch_alike() {
    let mut r = status_db1();
    r.states.insert("waiting_for_godot".into(), 3);
    r.states.insert(State::Fastpath.key(), 2);
    let st = style(None, false);
    let status = render::status::human(&r, &st);
    let base = Instant::now();
    let mut round = round_one(base);
    round.targets[0].report = Some(r.clone());
    let frame = render::watch::frame(&round, 160, 60, &st, base).join("\n");
    let line = render::watch::line(&round.targets[0], at(120));
    for (name, text) in [("status", &status), ("watch", &frame)] {
        let sessions = text
            .lines()
            .find(|l| l.trim_start().starts_with("sessions"))
            .unwrap_or_else(|| panic!("{name} has no sessions line:\n{text}"));
        for part in [
            "active 8",
            "idle in transaction 7",
            "fastpath function call 2",
            "waiting_for_godot 3",
        ] {
            assert!(
                sessions.contains(part),
                "{name}: {part:?} missing from {sessions:?}"
            );
        }
        assert!(!sessions.contains("disabled"), "{name}: {sessions:?}");
    }
    assert!(
        line.contains(" fastpath_function_call=2") && line.contains(" waiting_for_godot=3"),
        "{line}"
    );
}

/// kill's and rescue's `--json` as the README documents it: every field, in its place (a change of
/// shape in the report types must leave these bytes as they are).
#[test]
fn kill_and_rescue_json_keep_their_fields_and_order() {
    insta::assert_snapshot!("kill_plan_json", pretty_json(&kill_plan()));
    insta::assert_snapshot!("kill_result_json", pretty_json(&kill_result()));
    insta::assert_snapshot!("rescue_plan_json", pretty_json(&rescue_plan()));
}

/// A report as `render::json` writes it: pretty, in the order of the types' fields.
fn pretty_json(report: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(report).unwrap()
}
