//! The session model: client backends as pg_stat_activity shows them, the filters every command shares,
//! and the statements that read them: the sessions themselves, a snapshot with the count of all client
//! backends, and the counts status judges (ages computed by the server, never the client clock).

use std::time::{Duration, SystemTime};

use crate::analysis::status::{oldest, Bucket, LeakStatement, Tally};
use crate::db::Column;
use crate::db::{Db, Row};
use crate::report::advise::{PoolingBreaker, WorkingCount};
use crate::report::sessions::PreparedTransaction;
use crate::report::status::{HeadBlocker, IdleTransaction, LimitRow, LimitRows};
use crate::report::{Session, State};
use crate::statement::{Params, Statement};
use anyhow::{anyhow, Result};
use postgres::types::Type;

/// The shared session filters, as LIKE patterns for the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub db: Vec<String>,
    pub user: Vec<String>,
    pub app: Vec<String>,
    pub client: Vec<String>,
    pub exclude_db: Vec<String>,
    pub exclude_user: Vec<String>,
    pub exclude_app: Vec<String>,
    pub exclude_client: Vec<String>,
    /// empty = any.
    pub states: Vec<State>,
    /// state unchanged for longer than this.
    pub state_older_than: Option<Duration>,
    /// active and running the current query for longer than this.
    pub running_longer_than: Option<Duration>,
    /// only these pids; empty = any.
    pub pids: Vec<i32>,
}

/// Turn a user pattern (`*` any run, `?` one character) into a LIKE pattern; LIKE's own metacharacters
/// are escaped so they match literally.
pub fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    for ch in pattern.chars() {
        match ch {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `text` matches a user pattern as [`like_pattern`]'s LIKE does (`*` any run, `?` one
/// character, case-sensitive), for what is matched without a server (`rescue`'s process titles).
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic wildcard matching with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || (p[i] != '*' && p[i] == t[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

fn likes(v: &[String]) -> Vec<String> {
    v.iter().map(|p| like_pattern(p)).collect()
}

impl Filter {
    /// Only sessions in these states; none given: any state.
    pub fn with_states(mut self, states: impl IntoIterator<Item = State>) -> Filter {
        self.states = states.into_iter().collect();
        self
    }

    /// `--idle-longer-than`: state unchanged for longer than `d`; without `--state`, that means the idle
    /// states (idle, idle in transaction, idle in transaction (aborted)).
    pub fn idle_longer_than(mut self, d: Option<Duration>) -> Filter {
        if let Some(d) = d {
            self.state_older_than = Some(d);
            if self.states.is_empty() {
                self.states = State::IDLE.to_vec();
            }
        }
        self
    }

    /// The values of the shared filter's slots.
    pub fn params(&self) -> FilterParams {
        FilterParams {
            lists: [
                likes(&self.db),
                likes(&self.user),
                likes(&self.app),
                likes(&self.client),
                likes(&self.exclude_db),
                likes(&self.exclude_user),
                likes(&self.exclude_app),
                likes(&self.exclude_client),
                self.states.iter().map(|s| s.as_pg().to_string()).collect(),
            ],
            state_older_than: self.state_older_than.map(|d| d.as_secs_f64()),
            running_longer_than: self.running_longer_than.map(|d| d.as_secs_f64()),
            pids: self.pids.clone(),
        }
    }
}

/// Owned values of the filter's slots (`filter.sql`, `filter_who.sql`).
pub struct FilterParams {
    lists: [Vec<String>; 9],
    state_older_than: Option<f64>,
    running_longer_than: Option<f64>,
    pids: Vec<i32>,
}

/// The filter's slots that depend on who a session is (`filter_who.sql`), in the order of
/// [`FilterParams::lists`]' first eight lists.
const WHO_SLOTS: [&str; 8] = [
    "db",
    "user",
    "app",
    "client",
    "exclude_db",
    "exclude_user",
    "exclude_app",
    "exclude_client",
];

impl FilterParams {
    /// Whether the filter's slot `name` has a value that filters anything: a list with patterns, a
    /// duration. The statement keeps only those clauses ([`FilterParams::assemble`]); an empty list would
    /// keep every session, and parsing and planning the thirteen clauses costs a statement about a
    /// millisecond.
    fn active(&self, name: &str) -> bool {
        match name {
            "pids" => !self.pids.is_empty(),
            "states" => !self.lists[8].is_empty(),
            "state_older_than" => self.state_older_than.is_some(),
            "running_longer_than" => self.running_longer_than.is_some(),
            _ => WHO_SLOTS
                .iter()
                .position(|w| *w == name)
                .is_some_and(|i| !self.lists[i].is_empty()),
        }
    }

    /// Set the filter's slots that filter anything (`$db` .. `$exclude_client`, `$pids`, `$states`,
    /// `$state_older_than`, `$running_longer_than`): the ones a statement assembled by
    /// [`FilterParams::assemble`] has.
    pub fn set<'a>(&'a self, p: &mut Params<'a>) {
        for (name, list) in WHO_SLOTS.iter().zip(&self.lists) {
            if self.active(name) {
                p.set(name, list, Type::TEXT_ARRAY);
            }
        }
        if self.active("pids") {
            p.set("pids", &self.pids, Type::INT4_ARRAY);
        }
        if self.active("states") {
            p.set("states", &self.lists[8], Type::TEXT_ARRAY);
        }
        if self.active("state_older_than") {
            p.set("state_older_than", &self.state_older_than, Type::FLOAT8);
        }
        if self.active("running_longer_than") {
            p.set(
                "running_longer_than",
                &self.running_longer_than,
                Type::FLOAT8,
            );
        }
    }

    /// Whether the filter names databases or roles (`c.datname`, `c.usename`: pg_stat_activity's joins).
    pub fn needs_names(&self) -> bool {
        ["db", "user", "exclude_db", "exclude_user"]
            .iter()
            .any(|n| self.active(n))
    }

    /// Assemble a statement that applies this filter (its `/*FILTER*/` and `/*FILTER_WHO*/`) with only the
    /// clauses of the slots that filter anything: each clause of `filter.sql` and `filter_who.sql` is
    /// one line, and a line naming a slot without a value is left out.
    pub fn assemble(&self, template: &str) -> Statement {
        let keep =
            |line: &&str| crate::statement::dollar_words(line).all(|(_, name)| self.active(name));
        let prune = |sql: &str| -> String {
            body(sql)
                .lines()
                .filter(keep)
                .collect::<Vec<_>>()
                .join("\n")
        };
        assemble_parts(
            template,
            &prune(include_str!("sql/filter.sql")),
            &prune(include_str!("sql/filter_who.sql")),
        )
    }
}

/// The body of a SQL file: everything after its first line (the comment that says what it is).
fn body(sql: &str) -> &str {
    sql.split_once('\n')
        .map(|(_, rest)| rest)
        .unwrap_or(sql)
        .trim_end()
}

/// Assemble a statement from its SQL file and the shared parts (`/*CLIENT_BACKENDS*/` and the rule in it,
/// `/*CLIENT_BACKEND_RULE*/`, `/*FILTER*/`,
/// `/*FILTER_WHO*/`, `/*SESSION_COLUMNS*/`, `/*BLOCKED_BY*/`, `/*PROTECTION*/`, `/*TEMP_HOLDERS*/`, `/*FACTS*/`), so the
/// sessions statement, the kill plan and the signalling statement apply exactly the same conditions.
/// Temporary tables are told apart per session only from PostgreSQL 16 on (`temp_holders.sql` says so
/// in SQL, so one statement serves every version).
/// A statement with a filter is assembled by [`FilterParams::assemble`] instead, with only the clauses
/// that filter anything.
pub fn assemble(template: &str) -> Statement {
    assert!(
        !template.contains("/*FILTER"),
        "a statement with a filter is assembled by FilterParams::assemble"
    );
    assemble_parts(template, "", "")
}

fn assemble_parts(template: &str, filter: &str, filter_who: &str) -> Statement {
    // Outer parts first: each may contain the ones replaced after it.
    let text = template
        .replace("/*PROTECTION*/", body(include_str!("sql/protection.sql")))
        .replace(
            "/*TEMP_HOLDERS*/",
            body(include_str!("sql/temp_holders.sql")),
        )
        .replace(
            "/*CLIENT_BACKENDS*/",
            body(include_str!("sql/client_backends.sql")),
        )
        .replace(
            "/*CLIENT_BACKEND_RULE*/",
            body(include_str!("sql/client_backend_rule.sql")),
        )
        .replace("/*FILTER*/", filter)
        .replace("/*FILTER_WHO*/", filter_who)
        .replace(
            "/*SESSION_COLUMNS*/",
            body(include_str!("sql/session_columns.sql")),
        )
        .replace("/*BLOCKED_BY*/", body(include_str!("sql/blocked_by.sql")))
        .replace("/*FACTS*/", include_str!("sql/facts.sql").trim_end());
    Statement::new(&text)
}

const SESSIONS_SQL: &str = include_str!("sql/sessions.sql");

/// The server's port (in its unix socket's name and at the far end of its TCP connections) and pgconn's
/// own backend pid, for finding the client processes behind sessions; None for a port out of range.
pub fn server_port_and_pid(db: &mut Db) -> Result<Option<(u16, i32)>> {
    let row = db.query_one(
        "SELECT current_setting('port')::int AS port, pg_backend_pid() AS pid",
        &[],
    )?;
    let pid: i32 = row.try_get("pid")?;
    Ok(u16::try_from(row.try_get::<_, i32>("port")?)
        .ok()
        .map(|port| (port, pid)))
}

/// sessions.sql with this filter; `blocked`: only sessions waiting on a lock someone holds, each with
/// the head of its chain (`blocked.sql`); `by_statement`: whether the server cut each text.
fn sessions_statement(fp: &FilterParams, blocked: bool, by_statement: bool) -> Statement {
    let cut = if by_statement {
        format!("$with_query AND octet_length(m.query) >= {QUERY_SIZE}")
    } else {
        "false".to_string()
    };
    let sql = SESSIONS_SQL.replace("/*QUERY_CUT*/", &cut);
    let sql = if blocked {
        sql.replace("/*BLOCKED*/", &format!("{}\n", body(include_str!("sql/blocked.sql"))))
            .replace("/*BLOCKED_HEAD*/", ", h.head_blocker")
            .replace(
                "/*BLOCKED_JOIN*/",
                "\n          JOIN lw ON lw.pid = c.pid AND cardinality(lw.blocked_by) > 0\n          LEFT JOIN h ON h.pid = c.pid",
            )
            .replace("/*HEAD_BLOCKER*/", "\n       m.head_blocker,")
    } else {
        [
            "/*BLOCKED*/",
            "/*BLOCKED_HEAD*/",
            "/*BLOCKED_JOIN*/",
            "/*HEAD_BLOCKER*/",
        ]
        .iter()
        .fold(sql, |sql, slot| sql.replace(slot, ""))
    };
    fp.assemble(&sql)
}

/// Positions of the session columns (`session_columns.sql`) in a result, looked up by name once.
pub(crate) struct SnapshotColumns {
    pid: usize,
    database: usize,
    user: usize,
    application: usize,
    client: usize,
    client_port: usize,
    state: usize,
    backend_start: usize,
    query_start: usize,
    state_change: usize,
    xact_start: usize,
    at: usize,
    never_queried: usize,
    wait_event_type: usize,
    wait_event: usize,
    blocked_by: usize,
    head_blocker: Option<usize>,
    xmin_age: usize,
    superuser: usize,
    own_role: usize,
    query: usize,
    visible: usize,
    /// Not in every statement that lists sessions (sessions.sql has them).
    query_id: Option<usize>,
    query_cut: Option<usize>,
}

impl SnapshotColumns {
    /// Read over the emergency route too, so a column missing from the server's row is an error that
    /// names the statement (as every value read here), never a panic.
    pub(crate) fn of(row: &Row) -> Result<SnapshotColumns> {
        let at = |name: &str| {
            row.position(name).ok_or_else(|| {
                anyhow!("{}: the server's row has no column {name}", row.statement())
            })
        };
        Ok(SnapshotColumns {
            pid: at("pid")?,
            database: at("database")?,
            user: at("user")?,
            application: at("application")?,
            client: at("client")?,
            client_port: at("client_port")?,
            state: at("state")?,
            backend_start: at("backend_start")?,
            query_start: at("query_start")?,
            state_change: at("state_change")?,
            xact_start: at("xact_start")?,
            at: at("at")?,
            never_queried: at("never_queried")?,
            wait_event_type: at("wait_event_type")?,
            wait_event: at("wait_event")?,
            blocked_by: at("blocked_by")?,
            // only in `sessions --blocked`
            head_blocker: row.position("head_blocker"),
            xmin_age: at("xmin_age")?,
            superuser: at("superuser")?,
            own_role: at("own_role")?,
            query: at("query")?,
            visible: at("visible")?,
            query_id: row.position("query_id"),
            query_cut: row.position("query_cut"),
        })
    }

    /// The session in `row`.
    pub(crate) fn session(&self, row: &Row) -> Result<Session> {
        let mut s = Session::default();
        self.fill(row, &mut s)?;
        Ok(s)
    }

    /// Overwrite `s` with the session in `row`, reusing its strings' room: reading thousands of rows into
    /// one value allocates for the first few only. A value the row does not hold as expected is an error
    /// that names the statement (the emergency route's rows are the server's text).
    pub(crate) fn fill(&self, row: &Row, s: &mut Session) -> Result<()> {
        let c = self;
        let flag =
            |i: usize| -> Result<bool> { Ok(row.try_get::<_, Option<bool>>(i)?.unwrap_or(false)) };
        s.pid = row.try_get(c.pid)?;
        set_text(&mut s.database, row.try_get_str(c.database)?);
        set_text(&mut s.user, row.try_get_str(c.user)?);
        s.application.clear();
        s.application
            .push_str(row.try_get_str(c.application)?.unwrap_or_default());
        set_text(&mut s.client, row.try_get_str(c.client)?);
        s.client_port = row.try_get(c.client_port)?;
        s.state = row.try_get(c.state)?;
        // Ages as the server's date_part('epoch', now() - t) has them, from the statement's time.
        let at = micros(row.try_get::<_, SystemTime>(c.at)?);
        let age = |i: usize| -> Result<Option<f64>> {
            Ok(row
                .try_get::<_, Option<SystemTime>>(i)?
                .map(|t| epoch_seconds(at, micros(t))))
        };
        let backend_start: Option<SystemTime> = row.try_get(c.backend_start)?;
        let query_start: Option<SystemTime> = row.try_get(c.query_start)?;
        s.connected_seconds = backend_start.map(|t| epoch_seconds(at, micros(t)));
        s.query_seconds = query_start.map(|t| epoch_seconds(at, micros(t)));
        set_time(&mut s.backend_start, backend_start);
        set_time(&mut s.query_start, query_start);
        s.state_seconds = age(c.state_change)?;
        s.transaction_seconds = age(c.xact_start)?;
        s.never_queried = flag(c.never_queried)?;
        set_text(&mut s.wait_event_type, row.try_get_str(c.wait_event_type)?);
        set_text(&mut s.wait_event, row.try_get_str(c.wait_event)?);
        s.blocked_by.clear();
        if let Some(pids) = row.try_get::<_, Option<Vec<i32>>>(c.blocked_by)? {
            s.blocked_by.extend(pids);
        }
        s.head_blocker = match c.head_blocker {
            Some(i) => row.try_get(i)?,
            None => None,
        };
        s.xmin_age = row.try_get(c.xmin_age)?;
        s.superuser = flag(c.superuser)?;
        s.own_role = flag(c.own_role)?;
        set_text(&mut s.query, row.try_get_str(c.query)?);
        s.visible = flag(c.visible)?;
        s.query_id = match c.query_id {
            Some(i) => row.try_get(i)?,
            None => None,
        };
        s.query_cut = match c.query_cut {
            Some(i) => flag(i)?,
            None => false,
        };
        s.via_pgbouncer = false;
        Ok(())
    }
}

/// Set a text field to a column's value, in the room it already has.
fn set_text(field: &mut Option<String>, value: Option<&str>) {
    match value {
        Some(v) => {
            let f = field.get_or_insert_with(String::new);
            f.clear();
            f.push_str(v);
        }
        None => *field = None,
    }
}

/// Set a timestamp field as [`format_timestamp`] writes it, in the room it already has.
fn set_time(field: &mut Option<String>, value: Option<SystemTime>) {
    use std::fmt::Write as _;
    match value {
        Some(t) => {
            let f = field.get_or_insert_with(String::new);
            f.clear();
            let _infallible = write!(f, "{}", humantime::format_rfc3339_micros(t));
        }
        None => *field = None,
    }
}

/// A server timestamp as RFC 3339 in UTC with microseconds (`2024-05-01T12:00:00.123456Z`), exactly as
/// `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` writes it: the signalling statement
/// names sessions by that text.
pub fn format_timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// Now, as [`format_timestamp`] writes it: the one clock format of pgconn's records (audit log, tune
/// history).
pub fn now_rfc3339() -> String {
    format_timestamp(SystemTime::now())
}

/// The sessions `sessions` read: the first ones (all, or up to the limit) and counts over every match.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    pub sessions: Vec<Session>,
    /// Sessions that matched the filter, before the limit.
    pub matched: usize,
    /// Of those, the ones this role cannot see (other roles' rows without pg_read_all_stats).
    pub not_visible: usize,
}

/// What [`each_session`] hands over, in this order: the counts over every match (once, whatever the
/// limit), then each session as it arrives.
pub enum Listing<'a> {
    Counts {
        matched: usize,
        not_visible: usize,
    },
    /// One value, overwritten for the next session: a caller keeps what it needs, not the reference.
    Session(&'a mut Session),
}

/// Read the client sessions matching `filter` in one query (pgconn's own left out, longest in their
/// state first, at most `limit`), handing each to `on` as the server sends it, and learning the server's
/// facts from the first row. The counts are over every match, whatever the limit.
pub fn each_session(
    db: &mut Db,
    filter: &Filter,
    with_query: bool,
    limit: Option<usize>,
    blocked: bool,
    by_statement: bool,
    mut on: impl FnMut(Listing<'_>) -> Result<()>,
) -> Result<()> {
    let fp = filter.params();
    let mut params = Params::new();
    fp.set(&mut params);
    params.set("with_query", &with_query, Type::BOOL);
    let limit = limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    params.set("limit", &limit, Type::INT8);
    // Column positions are looked up by name once, on the first row, not once per row and column.
    let mut columns: Option<SnapshotColumns> = None;
    let mut facts: Option<String> = None;
    let mut session = Session::default();
    db.query_each(
        &sessions_statement(&fp, blocked, by_statement),
        &params,
        |row| {
            let c = match &columns {
                Some(c) => c,
                None => {
                    facts = row.try_get("facts")?;
                    let count = |col: &str| -> Result<usize> {
                        let n: Option<i64> = row.try_get(col)?;
                        Ok(n.map_or(0, |n| usize::try_from(n).unwrap_or(0)))
                    };
                    on(Listing::Counts {
                        matched: count("matched")?,
                        not_visible: count("not_visible")?,
                    })?;
                    columns.insert(SnapshotColumns::of(&row)?)
                }
            };
            // `sessions` sends a row without a session when none matches (it carries the facts).
            if row.try_get::<_, Option<i32>>(c.pid)?.is_none() {
                return Ok(());
            }
            c.fill(&row, &mut session)?;
            on(Listing::Session(&mut session))
        },
    )?;
    if columns.is_none() {
        on(Listing::Counts {
            matched: 0,
            not_visible: 0,
        })?;
    }
    db.learn_facts_json(facts.as_deref())
}

static PREPARED_SQL: std::sync::LazyLock<Statement> =
    std::sync::LazyLock::new(|| Statement::new(include_str!("sql/prepared_transactions.sql")));

/// Every prepared transaction on the server, oldest first: what a session blocked by pid 0 waits for.
pub fn prepared_transactions(db: &mut Db) -> Result<Vec<PreparedTransaction>> {
    db.query_named(&PREPARED_SQL, &Params::new())?
        .iter()
        .map(|r| {
            Ok(PreparedTransaction {
                gid: r.try_get("gid")?,
                owner: r.try_get("owner")?,
                database: r.try_get("database")?,
                age_seconds: r.try_get("age_seconds")?,
            })
        })
        .collect()
}

/// [`each_session`] into a list.
pub fn sessions(
    db: &mut Db,
    filter: &Filter,
    with_query: bool,
    limit: Option<usize>,
) -> Result<Listed> {
    let mut listed = Listed::default();
    each_session(db, filter, with_query, limit, false, false, |l| {
        match l {
            Listing::Counts {
                matched,
                not_visible,
                ..
            } => {
                listed.matched = matched;
                listed.not_visible = not_visible;
            }
            Listing::Session(s) => listed.sessions.push(s.clone()),
        }
        Ok(())
    })?;
    Ok(listed)
}

/// The length a text the server cut has: track_activity_query_size less its terminating byte. The size
/// from current_setting ("1kB"), an InitPlan, rather than pg_settings, whose every row the server would
/// build (0.7 ms) to read one.
const QUERY_SIZE: &str = "(SELECT pg_size_bytes(current_setting('track_activity_query_size')) - 1)";

/// A leak group's sample text: one of its idle sessions' last statements (a query_id's sessions with
/// different literals are one group).
const LEAK_SAMPLE: &str =
    "min(c.query) FILTER (WHERE c.visible AND c.state = 'idle' AND c.query_start IS NOT NULL)";

/// status.sql's `matches`: whether a session matches the shared filter.
const MATCHES: &str = "coalesce((\n/*FILTER*/\n           ), false)";

/// status.sql with this filter: on its own (client backends straight from pg_stat_get_activity, or from
/// pg_stat_activity when the filter names databases or roles), or with postgres_exporter's counts of the
/// same snapshot (`exporter_counts.sql`); with pg_stat_database's session counters
/// (`session_counters.sql`) when `counters`; each matching session apart (its pid and client port, for
/// --by process) when `by_session`.
fn status_statement(
    fp: &FilterParams,
    exporter: bool,
    counters: bool,
    by_session: bool,
    by_statement: bool,
    leak_statements: bool,
) -> Statement {
    let only_matching = |expr: &str| format!("CASE WHEN {MATCHES} THEN {expr} END");
    let sql = include_str!("sql/status.sql")
        .replace(
            "/*SESSION_COUNTERS_JSON*/",
            if counters {
                body(include_str!("sql/session_counters.sql"))
            } else {
                "NULL::text"
            },
        )
        .replace("/*MATCHES*/", MATCHES);
    // A leak suspect's dominant statement (status, advise): a matching idle session's last statement is a
    // key too, and whether the server cut its text.
    let sql = if leak_statements {
        sql.replace(
            "/*LEAK_QUERY_ID*/",
            &format!("CASE WHEN c.visible AND c.state = 'idle' AND {MATCHES} THEN c.query_id END"),
        )
        // the text is a key only where the server computed no query_id: sessions of one query_id with
        // different literals are one row (its text one of theirs), so a server that computes query_id
        // returns a row per statement, not per distinct text
        .replace(
            "/*LEAK_QUERY*/",
            &format!(
                "CASE WHEN c.visible AND c.state = 'idle' AND c.query_start IS NOT NULL AND c.query_id IS NULL \
                 AND {MATCHES} THEN c.query END"
            ),
        )
        .replace("/*LEAK_SAMPLE*/", LEAK_SAMPLE)
        // whether the server cut the text shown (the sample), not any text of the group: one query_id's
        // sessions may rest on texts of different lengths; the same aggregate is computed once
        .replace(
            "/*LEAK_CUT*/",
            &format!("octet_length({LEAK_SAMPLE}) >= {QUERY_SIZE}"),
        )
        .replace("/*BY_LEAK*/", ", 12, 13")
    } else {
        sql.replace("/*LEAK_QUERY_ID*/", "NULL::bigint")
            .replace("/*LEAK_QUERY*/", "NULL::text")
            .replace("/*LEAK_SAMPLE*/", "NULL::text")
            .replace("/*LEAK_CUT*/", "NULL::bool")
            .replace("/*BY_LEAK*/", "")
    };
    // The sessions that do not match stay a few groups: their per-session keys are NULL.
    let sql = if by_session {
        sql.replace("/*SESSION_PID*/", &only_matching("c.pid"))
            .replace("/*SESSION_CLIENT_PORT*/", &only_matching("c.client_port"))
            .replace("/*BY_SESSION*/", ", 6, 7")
    } else {
        sql.replace("/*SESSION_PID*/", "NULL::int")
            .replace("/*SESSION_CLIENT_PORT*/", "NULL::int")
            .replace("/*BY_SESSION*/", "")
    };
    // Each distinct last statement apart (--by statement): query_id and text grouped on, and whether the
    // server cut the text (QUERY_SIZE).
    let sql = if by_statement {
        sql.replace(
            "/*STATEMENT_QUERY_ID*/",
            &only_matching("CASE WHEN c.visible THEN c.query_id END"),
        )
        .replace(
            "/*STATEMENT_QUERY*/",
            &only_matching("CASE WHEN c.visible AND c.query_start IS NOT NULL THEN c.query END"),
        )
        .replace(
            "/*STATEMENT_CUT*/",
            &format!("bool_or(octet_length(c.query) >= {QUERY_SIZE})"),
        )
        .replace("/*BY_STATEMENT*/", ", 8, 9")
    } else {
        sql.replace("/*STATEMENT_QUERY_ID*/", "NULL::bigint")
            .replace("/*STATEMENT_QUERY*/", "NULL::text")
            .replace("/*STATEMENT_CUT*/", "NULL::bool")
            .replace("/*BY_STATEMENT*/", "")
    };
    let sql = sql.as_str();
    let sql = if exporter {
        sql.replace(
            "/*EXPORTER_COUNTS*/",
            &format!("\n{}\n", body(include_str!("sql/exporter_counts.sql"))),
        )
        .replace("/*ACTIVITY*/", "every")
        .replace(
            "/*EXPORTER_COUNTS_JSON*/",
            "(SELECT coalesce(json_agg(x ORDER BY x.datname, x.state, x.usename, x.application_name, \
             x.backend_type, x.wait_event_type, x.wait_event), '[]')::text FROM exporter_counts x)",
        )
    } else {
        sql.replace("/*EXPORTER_COUNTS*/", "")
            // the view's joins name every session's database and role: only a filter on those needs them
            .replace(
                "/*ACTIVITY*/",
                if fp.needs_names() {
                    "pg_stat_activity"
                } else {
                    "pg_stat_get_activity(NULL)"
                },
            )
            .replace("/*EXPORTER_COUNTS_JSON*/", "NULL::text")
    };
    fp.assemble(&sql)
}

/// `session_counters.sql`: pg_stat_database's session counters per database as one JSON text value (an
/// expression for another statement's select list).
pub fn session_counters_sql() -> &'static str {
    body(include_str!("sql/session_counters.sql"))
}

/// What [`count`] counts besides the filter: per client address too, which sessions a PgBouncer holds,
/// and the ages that split each bucket.
#[derive(Debug, Clone, Default)]
pub struct Counting {
    pub by_client: bool,
    /// One bucket per session, with its pid and client port (`status --by process`).
    pub by_session: bool,
    /// One bucket per distinct last statement (query_id and text): `status --by statement`.
    pub by_statement: bool,
    /// Backend pids of PgBouncer's server connections (`--pgbouncer`).
    pub pgbouncer_pids: Vec<i32>,
    pub leak_age: Duration,
    pub idle_in_transaction_age: Duration,
    /// The caller's own age (`check --idle-age`).
    pub extra_age: Option<Duration>,
    /// Also count as postgres_exporter does (`pg_stat_activity_count`), from the same snapshot, and read
    /// every role's and database's connection limit (not only those with one).
    pub exporter: bool,
    /// Also read pg_stat_database's session counters (PostgreSQL 14+), in the same statement.
    pub session_counters: bool,
    /// Also read the last statements of the idle sessions (`Tally::leak_statements`), in the same pass:
    /// what names a leak suspect's dominant statement.
    pub leak_statements: bool,
}

/// The values of `status.sql`'s own slots.
struct CountParams<'a> {
    counting: &'a Counting,
}

impl<'a> CountParams<'a> {
    fn new(c: &'a Counting) -> CountParams<'a> {
        CountParams { counting: c }
    }

    fn set(&'a self, p: &mut Params<'a>) {
        p.set("by_client", &self.counting.by_client, Type::BOOL)
            .set(
                "pooler_pids",
                &self.counting.pgbouncer_pids,
                Type::INT4_ARRAY,
            )
            // Prometheus has every role's and database's limit, as postgres_exporter does.
            .set("all_limits", &self.counting.exporter, Type::BOOL);
    }
}

/// Microseconds since the Unix epoch (before it: negative), as exact as the server's timestamps.
fn micros(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

/// `date_part('epoch', a - b)` as the server computes it for two timestamps `a_us`, `b_us` (microseconds):
/// the difference justified into days and the rest (timestamp_mi), then the rest's seconds plus the days'.
fn epoch_seconds(a_us: i64, b_us: i64) -> f64 {
    const USECS_PER_DAY: i64 = 86_400_000_000;
    let diff = a_us.saturating_sub(b_us);
    let days = diff / USECS_PER_DAY;
    let time = diff - days * USECS_PER_DAY;
    time as f64 / 1_000_000.0 + 86_400.0 * days as f64
}

/// A cut-off `age` before `start_us`, as `statement_timestamp() - make_interval(secs => age)` computes it
/// on PostgreSQL 15 and later (the age rounded to the microsecond, half to even: rint; 14 truncated, which
/// differs by a microsecond for an age with a fraction of one).
fn cut_off(start_us: i64, age: Duration) -> i64 {
    start_us.saturating_sub((age.as_secs_f64() * 1_000_000.0).round_ties_even() as i64)
}

/// Count the client sessions on the server, in one statement with the shared filter: per database, user,
/// application, state (and client), with their ages, and the number of client backends in use.
pub fn count(db: &mut Db, filter: &Filter, c: &Counting) -> Result<Tally> {
    let fp = filter.params();
    let cp = CountParams::new(c);
    let mut params = Params::new();
    fp.set(&mut params);
    cp.set(&mut params);
    let rows = db.query_named(
        &status_statement(
            &fp,
            c.exporter,
            c.session_counters,
            c.by_session,
            c.by_statement,
            c.leak_statements,
        ),
        &params,
    )?;
    let mut tally = Tally::default();
    // The facts, the limits and the other JSON values are on the first row (always at least one).
    let mut role_limits = None;
    let mut database_limits = None;
    if let Some(first) = rows.first() {
        if let Some(json) = first.try_get::<_, Option<String>>("exporter_counts")? {
            tally.activity_counts = Some(
                serde_json::from_str(&json)
                    .map_err(|e| anyhow!("the status statement's exporter_counts: {e}"))?,
            );
        }
        if let Some(json) = first.try_get::<_, Option<String>>("session_counters")? {
            tally.session_counters = Some(
                serde_json::from_str(&json)
                    .map_err(|e| anyhow!("the status statement's session_counters: {e}"))?,
            );
        }
        role_limits = first.try_get::<_, Option<String>>("role_limits")?;
        database_limits = first.try_get::<_, Option<String>>("database_limits")?;
    }
    db.learn_facts(&rows)?;
    let mut waiters: Vec<i32> = Vec::new();
    let mut idle_ages: Vec<f64> = Vec::new();
    let mut oldest_transaction: Option<(Vec<String>, Option<String>, Option<String>)> = None;
    // Every client backend per role and per database, and per application in each (the limits' counts).
    let mut per_role = PerOid::default();
    let mut per_database = PerOid::default();
    for row in rows {
        // No group: no client backend at all.
        let Some(sessions) = row.try_get::<_, Option<i32>>("sessions")? else {
            continue;
        };
        let sessions = usize::try_from(sessions).unwrap_or(0);
        tally.used += sessions as i64;
        let application: String = row.try_get("application")?;
        per_role.add(row.try_get("usesysid")?, &application, sessions);
        per_database.add(row.try_get("datid")?, &application, sessions);
        if !row.try_get::<_, bool>("matches")? {
            continue;
        }
        if let Some(pids) = row.try_get::<_, Option<Vec<i32>>>("lock_waiters")? {
            waiters.extend(pids);
        }
        let count = |name: &str| -> Result<usize> {
            Ok(usize::try_from(row.try_get::<_, i32>(name)?).unwrap_or(0))
        };
        // When each session entered its state: every age and count of the bucket comes from them.
        let start = micros(row.try_get::<_, SystemTime>("statement_start")?);
        let changes: Vec<i64> = row
            .try_get::<_, Option<Vec<SystemTime>>>("state_changes")?
            .unwrap_or_default()
            .into_iter()
            .map(micros)
            .collect();
        let older = |age: Duration| {
            let cut = cut_off(start, age);
            changes.iter().filter(|&&t| t < cut).count()
        };
        let bucket = Bucket {
            database: row.try_get("database")?,
            user: row.try_get("user")?,
            application,
            client: row.try_get("client")?,
            state: row.try_get("state")?,
            via_pgbouncer: row.try_get("via_pgbouncer")?,
            sessions,
            older_than_leak_age: older(c.leak_age),
            older_than_idle_in_transaction_age: older(c.idle_in_transaction_age),
            older_than_extra_age: c.extra_age.map_or(0, older),
            young: count("young")?,
            oldest_state_seconds: changes.iter().min().map(|&t| epoch_seconds(start, t)),
            oldest_xact_seconds: row.try_get("oldest_xact_seconds")?,
            pid: row.try_get("pid")?,
            client_port: row.try_get("client_port")?,
            process: None,
            query_id: row.try_get("query_id")?,
            query: row.try_get("query")?,
            query_cut: row
                .try_get::<_, Option<bool>>("query_cut")?
                .unwrap_or(false),
            statement: None,
        };
        // The array's first element, zero-padded, orders it (then the pid), as min() did per group.
        if let Some(t) = row.try_get::<_, Option<Vec<String>>>("oldest_idle_transaction")? {
            if oldest_transaction.as_ref().is_none_or(|(o, ..)| t < *o) {
                oldest_transaction = Some((t, bucket.database.clone(), bucket.user.clone()));
            }
        }
        if bucket.state == Some(State::Idle) {
            tally.idle.count += changes.len();
            idle_ages.extend(changes.iter().map(|&t| epoch_seconds(start, t)));
            tally.idle.oldest_seconds =
                oldest(tally.idle.oldest_seconds, bucket.oldest_state_seconds);
            // A pooler's idle server connections are its pool, never a leak suspect's.
            if c.leak_statements && !bucket.via_pgbouncer {
                tally.leak_statements.push(LeakStatement {
                    database: bucket.database.clone(),
                    user: bucket.user.clone(),
                    application: bucket.application.clone(),
                    query_id: row.try_get("leak_query_id")?,
                    query: row.try_get("leak_query")?,
                    query_cut: row
                        .try_get::<_, Option<bool>>("leak_query_cut")?
                        .unwrap_or(false),
                    sessions: bucket.sessions,
                });
            }
        }
        tally.buckets.push(bucket);
    }
    idle_ages.sort_by(f64::total_cmp);
    tally.idle.median_seconds = percentile_cont(&idle_ages, 0.5);
    tally.idle.p95_seconds = percentile_cont(&idle_ages, 0.95);
    if let Some((t, database, user)) = oldest_transaction {
        tally.oldest_idle_in_transaction = Some(idle_transaction(&t, database, user)?);
    }
    tally.limits = LimitRows {
        roles: limit_rows(role_limits.as_deref(), &per_role, "roles")?,
        databases: limit_rows(database_limits.as_deref(), &per_database, "databases")?,
    };
    tally.all_limits = c.exporter;
    if c.leak_statements {
        tally.buckets = merge_buckets(std::mem::take(&mut tally.buckets));
    }
    // Who blocks them: asked only when a matching session waits on a lock.
    if !waiters.is_empty() {
        head_blocker(db, waiters, &mut tally)?;
    }
    Ok(tally)
}

/// Client backends per role or database oid, and per application in each.
#[derive(Default)]
struct PerOid(std::collections::HashMap<i64, std::collections::BTreeMap<String, usize>>);

impl PerOid {
    fn add(&mut self, oid: Option<i64>, application: &str, sessions: usize) {
        if let Some(oid) = oid {
            let apps = self.0.entry(oid).or_default();
            match apps.get_mut(application) {
                Some(n) => *n += sessions,
                None => {
                    apps.insert(application.to_string(), sessions);
                }
            }
        }
    }
}

/// The roles or databases of the status statement's `role_limits` / `database_limits` (a JSON array of
/// `[oid, name, limit, superuser]`, NULL for none), with the sessions counted against each limit and the
/// application holding the most of them (the first by name on a tie), in name order (`name` sorts
/// byte-wise). A role or database without a limit (-1, listed for Prometheus) counts none.
fn limit_rows(json: Option<&str>, counts: &PerOid, what: &str) -> Result<Vec<LimitRow>> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    type Entry = (i64, String, i32, Option<bool>);
    let entries: Vec<Entry> = serde_json::from_str(json)
        .map_err(|e| anyhow!("the status statement's {what} limits: {e}"))?;
    let mut rows: Vec<LimitRow> = entries
        .into_iter()
        .map(|(oid, name, limit, superuser)| {
            let mut row = LimitRow {
                name,
                limit,
                superuser: superuser.unwrap_or(false),
                ..LimitRow::default()
            };
            if let (true, Some(apps)) = (limit != -1, counts.0.get(&oid)) {
                row.sessions = apps.values().sum();
                for (app, &n) in apps {
                    if row.largest_application.is_none() || n > row.largest_application_sessions {
                        row.largest_application = Some(app.clone());
                        row.largest_application_sessions = n;
                    }
                }
            }
            row
        })
        .collect();
    rows.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(rows)
}

/// PostgreSQL's `percentile_cont(fraction)` over sorted values: interpolated between the two values
/// around `fraction * (n - 1)`, as the server computes it (float8_lerp).
fn percentile_cont(sorted: &[f64], fraction: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = fraction * last as f64;
    let lo = position.floor();
    let hi = position.ceil();
    let (a, b) = (sorted[lo as usize], sorted[hi as usize]);
    Some(if lo == hi {
        a
    } else {
        a + (b - a) * (position - lo)
    })
}

/// The session idle in transaction the longest, from its group's array (status.sql: since when, pid,
/// database and role oids, transaction age or "", client, application, idle age) and the group's names.
fn idle_transaction(
    t: &[String],
    database: Option<String>,
    user: Option<String>,
) -> Result<IdleTransaction> {
    if t.len() != 8 {
        return Err(anyhow!(
            "the status statement's oldest_idle_transaction has {} elements, not 8",
            t.len()
        ));
    }
    let float = |s: &str| -> Result<Option<f64>> {
        if s.is_empty() {
            Ok(None)
        } else {
            f64::from_text(s).map(Some)
        }
    };
    Ok(IdleTransaction {
        pid: i32::from_text(&t[1])?,
        database,
        user,
        application: t[6].clone(),
        client: Some(t[5].clone()),
        idle_seconds: float(&t[7])?.unwrap_or(0.0),
        transaction_seconds: float(&t[4])?,
    })
}

/// The buckets of the same key as one: with `Counting::leak_statements` the server splits the idle
/// sessions of a bucket by their last statement, which the buckets do not carry.
fn merge_buckets(buckets: Vec<Bucket>) -> Vec<Bucket> {
    type Key = (
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<State>,
        bool,
        Option<i32>,
        Option<i32>,
        Option<i64>,
        Option<String>,
    );
    let mut at: std::collections::HashMap<Key, usize> =
        std::collections::HashMap::with_capacity(buckets.len());
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        let key: Key = (
            b.database.clone(),
            b.user.clone(),
            b.application.clone(),
            b.client.clone(),
            b.state.clone(),
            b.via_pgbouncer,
            b.pid,
            b.client_port,
            b.query_id,
            b.query.clone(),
        );
        match at.get(&key) {
            Some(&i) => {
                let m = &mut out[i];
                m.sessions += b.sessions;
                m.older_than_leak_age += b.older_than_leak_age;
                m.older_than_idle_in_transaction_age += b.older_than_idle_in_transaction_age;
                m.older_than_extra_age += b.older_than_extra_age;
                m.young += b.young;
                m.oldest_state_seconds = oldest(m.oldest_state_seconds, b.oldest_state_seconds);
                m.oldest_xact_seconds = oldest(m.oldest_xact_seconds, b.oldest_xact_seconds);
                m.query_cut |= b.query_cut;
            }
            None => {
                at.insert(key, out.len());
                out.push(b);
            }
        }
    }
    out
}

static HEAD_BLOCKER_SQL: std::sync::LazyLock<Statement> = std::sync::LazyLock::new(|| {
    assemble(&include_str!("sql/head_blocker.sql").replace(
        "/*BLOCKED*/",
        &format!("{}\n", body(include_str!("sql/blocked.sql"))),
    ))
});

/// Of `waiters` (sessions status saw waiting on a lock), how many someone blocks, and the head of the most
/// of their chains (`head_blocker.sql`).
fn head_blocker(db: &mut Db, waiters: Vec<i32>, tally: &mut Tally) -> Result<()> {
    let mut params = Params::new();
    params.set("waiters", &waiters, Type::INT4_ARRAY);
    let rows = db.query_named(&HEAD_BLOCKER_SQL, &params)?;
    let Some(first) = rows.first() else {
        return Ok(());
    };
    tally.blocked_sessions =
        usize::try_from(first.try_get::<_, i32>("blocked_sessions")?).unwrap_or(0);
    if let Some(pid) = first.try_get::<_, Option<i32>>("head_blocker_pid")? {
        tally.head_blocker = Some(HeadBlocker {
            pid,
            prepared_transaction: pid == 0,
            blocking: usize::try_from(
                first
                    .try_get::<_, Option<i32>>("head_blocker_blocking")?
                    .unwrap_or(0),
            )
            .unwrap_or(0),
            state: first.try_get("head_blocker_state")?,
            database: first.try_get("head_blocker_database")?,
            user: first.try_get("head_blocker_user")?,
            application: first
                .try_get::<_, Option<String>>("head_blocker_application")?
                .unwrap_or_default(),
            client: first.try_get("head_blocker_client")?,
            state_seconds: first.try_get("head_blocker_state_seconds")?,
            transaction_seconds: first.try_get("head_blocker_xact_seconds")?,
        });
    }
    Ok(())
}

/// One sample of the working sessions per application (`working_sample.sql`, one statement): active, or
/// idle in transaction for less than `short_idle_in_transaction`; sessions waiting on a lock counted apart.
/// `pooler_pids` (PgBouncer's server connections) are left out.
pub fn working_sample(
    db: &mut Db,
    filter: &Filter,
    pooler_pids: &[i32],
    short_idle_in_transaction: Duration,
) -> Result<Vec<WorkingCount>> {
    let fp = filter.params();
    let short = short_idle_in_transaction.as_secs_f64();
    let mut params = Params::new();
    fp.set(&mut params);
    params
        .set("pooler_pids", &pooler_pids, Type::INT4_ARRAY)
        .set("short_idle_in_transaction", &short, Type::FLOAT8);
    let rows = db.query_named(
        &fp.assemble(include_str!("sql/working_sample.sql")),
        &params,
    )?;
    let count = |row: &Row, name: &str| -> Result<usize> {
        Ok(usize::try_from(row.try_get::<_, i64>(name)?).unwrap_or(0))
    };
    rows.iter()
        .map(|row| {
            Ok(WorkingCount {
                application: row.try_get("application")?,
                held: count(row, "held")?,
                working: count(row, "working")?,
                lock_waiters: count(row, "lock_waiters")?,
            })
        })
        .collect()
}

/// The sessions transaction pooling would break (`pooling_breakers.sql`, one statement): LISTEN
/// listeners, advisory-lock holders and temporary-table holders, as kill recognises them.
pub fn pooling_breakers(
    db: &mut Db,
    filter: &Filter,
    pooler_pids: &[i32],
) -> Result<Vec<PoolingBreaker>> {
    let fp = filter.params();
    let mut params = Params::new();
    fp.set(&mut params);
    params
        .set("pooler_pids", &pooler_pids, Type::INT4_ARRAY)
        .set("include_temp_holders", &false, Type::BOOL);
    let rows = db.query_named(
        &fp.assemble(include_str!("sql/pooling_breakers.sql")),
        &params,
    )?;
    rows.iter()
        .map(|row| {
            Ok(PoolingBreaker {
                pid: row.try_get("pid")?,
                application: row.try_get("application")?,
                listener: row.try_get("listener")?,
                advisory_lock: row.try_get("advisory_lock")?,
                temp_tables: row.try_get("temp_tables")?,
            })
        })
        .collect()
}

/// Mark the sessions that are server connections of a PgBouncer (by backend pid, from SHOW SERVERS).
pub fn mark_pgbouncer(sessions: &mut [Session], server_pids: &[i32]) {
    let pids: std::collections::HashSet<i32> = server_pids.iter().copied().collect();
    for s in sessions {
        s.via_pgbouncer = pids.contains(&s.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::assert_fills;

    #[test]
    fn percentiles_interpolate_as_percentile_cont_does() {
        assert_eq!(percentile_cont(&[], 0.5), None);
        assert_eq!(percentile_cont(&[7.0], 0.95), Some(7.0));
        // SELECT percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x) FROM unnest('{1,2,4,10}'::float8[]) x
        // → {3,9.1}
        let v = [1.0, 2.0, 4.0, 10.0];
        assert_eq!(percentile_cont(&v, 0.5), Some(3.0));
        assert!((percentile_cont(&v, 0.95).unwrap() - 9.1).abs() < 1e-12);
        assert_eq!(percentile_cont(&v, 1.0), Some(10.0));
        assert_eq!(percentile_cont(&v, 0.0), Some(1.0));
    }

    #[test]
    fn ages_are_computed_as_the_server_computes_them() {
        // SELECT date_part('epoch', '2024-01-03 00:00:01.5+00'::timestamptz - '2024-01-01 00:00:00+00') → 172801.5
        let day = 86_400_000_000_i64;
        assert_eq!(epoch_seconds(2 * day + 1_500_000, 0), 172_801.5);
        assert_eq!(epoch_seconds(0, 250_000), -0.25);
        assert_eq!(epoch_seconds(1_234_567, 0), 1.234567);
        // make_interval(secs => 0.0000005) rounds half to even: 0 µs; 0.0000015: 2 µs
        assert_eq!(cut_off(10, Duration::from_nanos(500)), 10);
        assert_eq!(cut_off(10, Duration::from_nanos(1_500)), 8);
        assert_eq!(cut_off(10_000_000, Duration::from_secs(5)), 5_000_000);
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(micros(t), 1_700_000_000_123_456);
        assert_eq!(
            micros(SystemTime::UNIX_EPOCH - Duration::from_micros(3)),
            -3
        );
    }

    #[test]
    fn limits_count_every_session_of_a_limited_role_and_name_its_largest_application() {
        let mut per = PerOid::default();
        per.add(Some(10), "b", 3);
        per.add(Some(10), "a", 3);
        per.add(Some(10), "c", 1);
        per.add(Some(11), "x", 5);
        per.add(None, "y", 9);
        let json = r#"[[11, "zed", -1, false], [10, "app", 5, false], [12, "idle", 0, true]]"#;
        let rows = limit_rows(Some(json), &per, "roles").unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["app", "idle", "zed"]);
        // a tie goes to the first in byte order (ORDER BY n DESC, application did in the C collation)
        assert_eq!(rows[0].sessions, 7);
        assert_eq!(rows[0].largest_application.as_deref(), Some("a"));
        assert_eq!(rows[0].largest_application_sessions, 3);
        // no session
        assert_eq!((rows[1].sessions, rows[1].superuser), (0, true));
        assert_eq!(rows[1].largest_application, None);
        // no limit: listed (Prometheus), nothing counted
        assert_eq!((rows[2].sessions, rows[2].limit), (0, -1));
        assert_eq!(rows[2].largest_application, None);
        assert!(limit_rows(None, &per, "roles").unwrap().is_empty());
        assert!(limit_rows(Some("{"), &per, "roles").is_err());
    }

    #[test]
    fn the_session_statements_get_exactly_their_values() {
        let fp = Filter::default().params();
        let mut params = Params::new();
        fp.set(&mut params);
        params.set("with_query", &true, Type::BOOL);
        params.set("limit", &Some(5_i64), Type::INT8);
        for blocked in [false, true] {
            for by_statement in [false, true] {
                assert_fills(&sessions_statement(&fp, blocked, by_statement), &params);
            }
        }
        let c = Counting::default();
        let cp = CountParams::new(&c);
        let mut params = Params::new();
        fp.set(&mut params);
        cp.set(&mut params);
        for exporter in [false, true] {
            for counters in [false, true] {
                for by_session in [false, true] {
                    for by_statement in [false, true] {
                        for leak in [false, true] {
                            assert_fills(
                                &status_statement(
                                    &fp,
                                    exporter,
                                    counters,
                                    by_session,
                                    by_statement,
                                    leak,
                                ),
                                &params,
                            );
                        }
                    }
                }
            }
        }
        let mut params = Params::new();
        let one = vec![1_i32];
        params.set("waiters", &one, Type::INT4_ARRAY);
        assert_fills(&HEAD_BLOCKER_SQL, &params);
    }

    /// Only the clauses of what was asked for are in the statement (each of the twelve is parsed and planned even
    /// when its list is empty), and every one of them when everything is asked for.
    #[test]
    fn a_statement_has_only_the_filters_clauses_that_filter() {
        let none = Filter::default().params();
        let text = none.assemble(SESSIONS_SQL).text().to_string();
        assert!(!text.contains("cardinality("), "{text}");
        assert!(text.contains("c.pid <> pg_backend_pid()"), "{text}");
        let some = Filter {
            app: vec!["leaky-*".into()],
            ..Filter::default()
        }
        .idle_longer_than(Some(Duration::from_secs(60)))
        .params();
        let stmt = some.assemble(SESSIONS_SQL);
        let mut slots = stmt.slots().to_vec();
        slots.retain(|s| !["with_query", "limit"].contains(&s.as_str()));
        assert_eq!(slots, ["app", "states", "state_older_than"]);
        let mut params = Params::new();
        some.set(&mut params);
        params.set("with_query", &true, Type::BOOL);
        params.set("limit", &None::<i64>, Type::INT8);
        assert_fills(&stmt, &params);
        let all = Filter {
            db: vec!["a".into()],
            user: vec!["a".into()],
            app: vec!["a".into()],
            client: vec!["a".into()],
            exclude_db: vec!["a".into()],
            exclude_user: vec!["a".into()],
            exclude_app: vec!["a".into()],
            exclude_client: vec!["a".into()],
            states: vec![State::Idle],
            state_older_than: Some(Duration::from_secs(1)),
            running_longer_than: Some(Duration::from_secs(1)),
            pids: vec![1],
        }
        .params();
        let text = all.assemble(SESSIONS_SQL).text().to_string();
        let clauses = include_str!("sql/filter.sql")
            .lines()
            .chain(include_str!("sql/filter_who.sql").lines())
            .filter(|l| l.trim_start().starts_with("AND ("))
            .count();
        assert_eq!(clauses, 12);
        assert_eq!(text.matches("    AND (").count(), clauses, "{text}");
    }

    /// pg_blocking_pids takes every lock-manager partition lock: it is reached only for a session waiting
    /// on a lock, behind a CASE (sessions, the kill plan) or a WHERE on the same condition (the waiters of
    /// `--blocked`), never for every row.
    #[test]
    fn pg_blocking_pids_is_asked_only_of_sessions_waiting_on_a_lock() {
        let fp = Filter::default().params();
        let guarded = "CASE WHEN m.wait_event_type = 'Lock'\n            THEN ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids(m.pid))";
        let plain = sessions_statement(&fp, false, false).text().to_string();
        let kill = fp
            .assemble(include_str!("sql/kill_plan.sql"))
            .text()
            .to_string();
        for text in [&plain, &kill] {
            assert_eq!(text.matches("pg_blocking_pids(").count(), 1, "{text}");
            assert_eq!(text.matches(guarded).count(), 1, "{text}");
        }
        // In the outer SELECT, not in the CTE s: a volatile function there would make the server
        // materialize s instead of folding it into the statement.
        let outer = plain
            .find("SELECT CASE WHEN m.rn IS NULL OR m.rn = 1")
            .unwrap();
        assert!(plain.find(guarded).unwrap() > outer, "{plain}");
        let blocked = sessions_statement(&fp, true, false).text().to_string();
        assert_eq!(blocked.matches("pg_blocking_pids(").count(), 2, "{blocked}");
        assert_eq!(blocked.matches(guarded).count(), 1, "{blocked}");
        // status asks nothing itself; its follow-up (sent only when a session waits on a lock) asks
        // lock waiters only
        for exporter in [false, true] {
            for counters in [false, true] {
                for by_session in [false, true] {
                    for by_statement in [false, true] {
                        for leak in [false, true] {
                            let text = status_statement(
                                &fp,
                                exporter,
                                counters,
                                by_session,
                                by_statement,
                                leak,
                            )
                            .text()
                            .to_string();
                            assert!(!text.contains("pg_blocking_pids"), "{text}");
                        }
                    }
                }
            }
        }
        let follow_up = HEAD_BLOCKER_SQL.text().to_string();
        assert_eq!(
            follow_up.matches("pg_blocking_pids(").count(),
            1,
            "{follow_up}"
        );
        let waiters = "SELECT c.pid, ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids(c.pid)) AS b ORDER BY b) AS blocked_by\n      FROM c\n     WHERE c.wait_event_type = 'Lock'\n";
        assert_eq!(blocked.matches(waiters).count(), 1, "{blocked}");
        assert_eq!(follow_up.matches(waiters).count(), 1, "{follow_up}");
    }

    #[test]
    fn patterns_match_without_a_server_as_like_does() {
        for (p, t, m) in [
            ("leaky-*", "leaky-worker", true),
            ("leaky-*", "leaky", false),
            ("*worker", "leaky-worker", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("100%_done", "100%_done", true),
            ("100%_done", "100x_done", false),
            ("*", "", true),
            ("", "", true),
            ("App", "app", false),
            ("*a*b*", "xxaxxbxx", true),
            ("my app", "my app", true),
        ] {
            assert_eq!(pattern_matches(p, t), m, "{p} ~ {t}");
        }
    }

    #[test]
    fn patterns_escape_like_metacharacters() {
        assert_eq!(like_pattern("leaky-*"), "leaky-%");
        assert_eq!(like_pattern("a?c"), "a_c");
        assert_eq!(like_pattern("100%_done\\"), "100\\%\\_done\\\\");
        assert_eq!(like_pattern(""), "");
    }

    /// Over the emergency route the session rows are the server's text: a value that does not read is an
    /// error naming the statement, not a panic.
    #[test]
    fn a_malformed_session_row_is_an_error_naming_the_statement() {
        use std::sync::Arc;
        let names = [
            "pid",
            "database",
            "user",
            "application",
            "client",
            "client_port",
            "state",
            "backend_start",
            "query_start",
            "state_change",
            "xact_start",
            "at",
            "never_queried",
            "wait_event_type",
            "wait_event",
            "blocked_by",
            "xmin_age",
            "superuser",
            "own_role",
            "query",
            "visible",
        ];
        let cols: Arc<[String]> = names.iter().map(|n| n.to_string()).collect();
        let stmt: Arc<str> = Arc::from(
            SESSIONS_SQL
                .lines()
                .next()
                .unwrap()
                .trim_start_matches("-- "),
        );
        let mut values: Vec<Option<String>> = vec![None; names.len()];
        values[0] = Some("4242".into());
        values[3] = Some("app".into());
        values[6] = Some("idle".into());
        values[11] = Some("2024-05-01 12:00:01.5+00".into());
        values[9] = Some("2024-05-01 12:00:00+00".into());
        let good = Row::text(
            crate::wire::TextRow::new(Arc::clone(&cols), values.clone()),
            &stmt,
        );
        let c = SnapshotColumns::of(&good).unwrap();
        let s = c.session(&good).unwrap();
        assert_eq!((s.pid, s.state), (4242, Some(State::Idle)));
        assert_eq!(s.state_seconds, Some(1.5));
        assert_eq!(s.transaction_seconds, None);
        // A timestamp not in UTC, as a server with another TimeZone would write it.
        values[7] = Some("2024-05-01 12:00:00+02".into());
        let bad = Row::text(crate::wire::TextRow::new(cols, values), &stmt);
        let e = format!("{:#}", c.session(&bad).unwrap_err());
        assert!(
            e.starts_with("sessions: ")
                && e.contains("column \"backend_start\"")
                && e.contains("not a UTC timestamp"),
            "{e}"
        );
    }

    #[test]
    fn the_pooler_finding_knows_listeners_by_kills_rule() {
        let rule = |sql: &str| -> String {
            let at = sql.find("~* E'").expect("a listener rule") + 5;
            let len = sql[at..].find('\'').expect("the pattern's end");
            sql[at..at + len].to_string()
        };
        assert_eq!(
            rule(include_str!("sql/pooling_breakers.sql")),
            rule(include_str!("sql/protection.sql"))
        );
    }
}
