//! `pgconn advise`: from what the server (and optionally PgBouncer) shows to findings with the exact fix.
//!
//! Everything is computed from one session snapshot, the connection-related settings and where they are set,
//! and (with `--pgbouncer`) PgBouncer's console. Each finding carries its evidence (numbers from this server),
//! why it matters, and commands that work as printed.

use std::collections::BTreeMap;

use anyhow::Result;
use postgres::types::Type;

use crate::activity::{self, Filter};
use crate::analysis::{self, Grouping, Thresholds};
use crate::conninfo;
use crate::db::ConnOptions;
use crate::db::Db;
use crate::report::advise::{AdviseReport, Finding, PoolBudget, Severity};
use crate::report::pgbouncer::PgbouncerSnapshot;
use crate::report::shell_quote;
use crate::report::status::StatusReport;
use crate::report::ServerFacts;
use crate::report::{age, typed_duration, Level};
use crate::report::{Session, State};
use crate::setting::{self, Meta, VarType};

/// `pgconn` plus the connection options this run was given, so suggested commands reach the same server.
fn command_prefix(conn: &ConnOptions) -> String {
    let mut parts = vec!["pgconn".to_string()];
    if let Some(h) = &conn.host {
        parts.push(format!("-h {}", shell_quote(h)));
    }
    if let Some(p) = &conn.port {
        parts.push(format!("-p {}", shell_quote(p)));
    }
    if let Some(u) = &conn.username {
        parts.push(format!("-U {}", shell_quote(u)));
    }
    for d in &conn.dbname {
        parts.push(format!("-d {}", shell_quote(&conninfo::without_secrets(d))));
    }
    for s in &conn.service {
        parts.push(format!("--service {}", shell_quote(s)));
    }
    parts.join(" ")
}

struct Setting {
    name: String,
    server_value: String,
    unit: Option<String>,
}

struct Override {
    database: Option<String>,
    role: Option<String>,
    name: String,
    value: String,
}

const TIMEOUTS: [&str; 4] = [
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "statement_timeout",
    "transaction_timeout",
];

/// The timeouts' server-wide values and their database / role settings, and what could not be read.
fn read_settings(db: &mut Db) -> Result<(Vec<Setting>, Vec<Override>, Vec<String>)> {
    let names: Vec<String> = TIMEOUTS.iter().map(|s| s.to_string()).collect();
    let sql = if db.facts()?.can_read_file_settings {
        include_str!("../sql/advise_settings.sql")
    } else {
        include_str!("../sql/advise_settings_default.sql")
    };
    let rows = db.query(sql, &[(&names, Type::TEXT_ARRAY)])?;
    let mut skipped = Vec::new();
    let mut guessed: Vec<String> = Vec::new();
    for r in &rows {
        if r.try_get::<_, bool>("guessed")? {
            guessed.push(r.try_get("name")?);
        }
    }
    if !guessed.is_empty() {
        skipped.push(format!(
            "the server-wide value of {} is hidden from this session by a database or role setting, and \
             role {} may not read pg_file_settings: the built-in default is assumed (a superuser, or \
             GRANT SELECT ON pg_file_settings and EXECUTE ON FUNCTION pg_show_all_file_settings(), sees it)",
            guessed.join(", "),
            db.facts()?.current_user
        ));
    }
    let settings = rows
        .iter()
        .map(|r| {
            Ok(Setting {
                name: r.try_get("name")?,
                server_value: r.try_get("server_value")?,
                unit: r.try_get("unit")?,
            })
        })
        .collect::<Result<_>>()?;
    let rows = db.query(
        include_str!("../sql/advise_overrides.sql"),
        &[(&names, Type::TEXT_ARRAY)],
    )?;
    let overrides = rows
        .iter()
        .map(|r| {
            Ok(Override {
                database: r.try_get("database")?,
                role: r.try_get("role")?,
                name: r.try_get("name")?,
                value: r.try_get("value")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok((settings, overrides, skipped))
}

/// Whether a timeout's value (in the setting's `unit`, or with a unit of its own) means "off": empty, or
/// zero as PostgreSQL reads it.
fn is_off(value: &str, unit: Option<&str>) -> bool {
    let meta = Meta {
        name: String::new(),
        vartype: VarType::Integer,
        unit: unit.map(String::from),
        min: None,
        max: None,
        enumvals: Vec::new(),
    };
    value.trim().is_empty() || setting::base_of(&meta, value) == Some(0.0)
}

/// What `advise` is asked.
#[derive(Debug, Clone)]
pub struct AdviseRequest {
    pub filter: Filter,
    pub thresholds: Thresholds,
    /// Also read this PgBouncer's admin console.
    pub pgbouncer: Option<String>,
    /// The percent of the usable slots the pool budget keeps free (0 to below 100).
    pub headroom: f64,
}

impl Default for AdviseRequest {
    /// The command line's: status's thresholds, 20% headroom.
    fn default() -> Self {
        AdviseRequest {
            filter: Filter::default(),
            thresholds: Thresholds::default(),
            pgbouncer: None,
            headroom: 20.0,
        }
    }
}

pub fn collect(db: &mut Db, conn: &ConnOptions, args: &AdviseRequest) -> Result<AdviseReport> {
    // Counted on the server by status itself (the pooler's pools read once, its server connections
    // counted apart); the rows are read for the findings that name sessions.
    let req = super::status::StatusRequest {
        filter: args.filter.clone(),
        grouping: Grouping {
            top: 0,
            ..Grouping::default()
        },
        thresholds: args.thresholds.clone(),
        pgbouncer: args.pgbouncer.clone(),
        ..Default::default()
    };
    let mut st = super::status::collect(db, &req)?;
    let bouncer = st.pgbouncer.take();
    let pooler_pids = bouncer
        .as_ref()
        .map(|b| b.server_pids.clone())
        .unwrap_or_default();
    let mut sessions = activity::sessions(db, &req.filter, false, None)?.sessions;
    activity::mark_pgbouncer(&mut sessions, &pooler_pids);
    let (settings, overrides, mut skipped) = read_settings(db)?;
    if !db.facts()?.can_read_all_stats {
        skipped.push(format!(
            "role {} cannot see other roles' sessions (no pg_read_all_stats): leaks and idle transactions of \
             those roles cannot be found (GRANT pg_read_all_stats TO ...)",
            db.facts()?.current_user
        ));
    }
    let prefix = command_prefix(conn);
    let mut findings = Vec::new();
    let facts = db.facts()?.clone();
    capacity_findings(&st, &facts, &prefix, &mut findings);
    leak_findings(&st, &sessions, args, &prefix, &mut findings);
    idle_transaction_findings(&sessions, args, &prefix, &mut findings);
    timeout_findings(&sessions, &settings, &overrides, &prefix, &mut findings);
    pool_budget_findings(&st, &sessions, args, &mut findings);
    match &bouncer {
        Some(b) => pgbouncer_findings(b, &st, &mut findings),
        None => pgbouncer_recommendation(&st, &sessions, db, &mut findings),
    }
    // The most severe first.
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rank.cmp(&b.rank)));
    Ok(AdviseReport {
        target: st.target.clone(),
        connection: st.connection.clone(),
        server_version: st.server.version.clone(),
        capacity: st.capacity.clone(),
        sessions: st.sessions,
        findings,
        skipped,
        pgbouncer: bouncer,
    })
}

fn capacity_findings(st: &StatusReport, facts: &ServerFacts, prefix: &str, out: &mut Vec<Finding>) {
    let c = &st.capacity;
    let sev = match c.level {
        Level::Critical => Some(Severity::Critical),
        Level::Warning => Some(Severity::Warning),
        _ => None,
    };
    if let Some(severity) = sev {
        out.push(Finding {
            id: "capacity".into(),
            severity,
            title: format!("connection slots nearly exhausted: {:.0}% used, {} left", c.used_percent, c.slots_left),
            evidence: vec![format!(
                "{} (max_connections {}, {} reserved for superusers{})",
                c.describe(),
                c.max_connections,
                c.superuser_reserved_connections,
                c.reserved_connections.map(|r| format!(", {r} for pg_use_reserved_connections")).unwrap_or_default()
            )],
            why: "when the slots run out, new connections fail with \"sorry, too many clients already\" or \
                  \"remaining connection slots are reserved\"; raising max_connections costs memory per backend \
                  and needs a restart, so first free what is held idle and cap the pools"
                .into(),
            recommendation: "free idle sessions now, then cap application pools (see the pool budget) or put a \
                             pooler in front"
                .into(),
            commands: vec![format!("{prefix} kill-idle --older-than 10m --dry-run")],
            config: None,
            rank: 0,
        });
    }
    if facts.superuser_reserved_connections < 3 {
        out.push(Finding {
            id: "reserved_slots_low".into(),
            severity: Severity::Warning,
            title: format!(
                "superuser_reserved_connections is {}: an administrator may be locked out during an incident",
                facts.superuser_reserved_connections
            ),
            evidence: vec![format!("superuser_reserved_connections = {}", facts.superuser_reserved_connections)],
            why: "the reserved slots are how a DBA (and pgconn) still get in when applications have taken every \
                  other slot"
                .into(),
            recommendation: "keep at least 3 slots for superusers (takes effect after a restart)".into(),
            commands: vec![format!("{prefix} tune set superuser_reserved_connections=3 --system")],
            config: None,
            rank: 20,
        });
    }
}

/// The largest whole number of seconds not above `secs`, as a duration to type back in.
fn floor_duration(secs: f64) -> String {
    typed_duration(std::time::Duration::from_secs(secs.max(0.0).floor() as u64))
}

fn leak_findings(
    st: &StatusReport,
    sessions: &[Session],
    args: &AdviseRequest,
    prefix: &str,
    out: &mut Vec<Finding>,
) {
    let t = &args.thresholds;
    for l in &st.leak_suspects {
        let group: Vec<&Session> = sessions
            .iter()
            .filter(|s| {
                !s.via_pgbouncer
                    && s.state == Some(State::Idle)
                    && s.application == l.application
                    && s.user == l.user
                    && s.database == l.database
            })
            .collect();
        let youngest = group
            .iter()
            .filter_map(|s| s.state_seconds)
            .fold(f64::INFINITY, f64::min);
        // Old enough to be a leak by age: the age threshold; otherwise every idle session of the group is part
        // of the hoard, and the youngest one's age selects them all.
        let older_than = if l.idle_longer_than_threshold >= t.leak_min_sessions.max(1) {
            floor_duration(t.leak_idle_age.as_secs_f64())
        } else if youngest.is_finite() {
            floor_duration(youngest)
        } else {
            "0s".into()
        };
        let mut cmd = format!("{prefix} kill-idle --app {}", shell_quote(&l.application));
        if let Some(u) = &l.user {
            cmd.push_str(&format!(" --user {}", shell_quote(u)));
        }
        if let Some(d) = &l.database {
            cmd.push_str(&format!(" --db {}", shell_quote(d)));
        }
        cmd.push_str(&format!(" --older-than {older_than}"));
        let app = if l.application.is_empty() {
            "(no application_name)".to_string()
        } else {
            l.application.clone()
        };
        out.push(Finding {
            id: "leak_suspect".into(),
            severity: Severity::Warning,
            title: format!(
                "possible connection leak: {app} (user {}, database {}) holds {} idle sessions",
                l.user.as_deref().unwrap_or("?"),
                l.database.as_deref().unwrap_or("?"),
                l.idle
            ),
            evidence: vec![
                format!(
                    "{} sessions: {} idle, {} active; {} idle for longer than {}",
                    l.sessions,
                    l.idle,
                    l.active,
                    l.idle_longer_than_threshold,
                    typed_duration(t.leak_idle_age)
                ),
                format!(
                    "its idle sessions are {:.0}% of the {} slots ordinary roles can use; oldest idle {}",
                    l.share_of_usable_percent,
                    st.capacity.usable_slots,
                    crate::report::opt_age(l.oldest_idle_seconds)
                ),
            ],
            why: "an application that opens connections and never returns or closes them (a client created per \
                  script or request, a pool that is never shut down, a worker per connection) fills the server \
                  until nobody else gets in"
                .into(),
            recommendation: "terminate its idle sessions (the command previews and asks first), then fix the \
                             application: reuse one client/pool per process, close it on exit, and cap its pool \
                             size; keep idle_session_timeout or a pooler as a guard rail. Preview only with \
                             --dry-run; leave warm connections with --keep N. In cron, add --yes --log FILE"
                .into(),
            commands: vec![cmd.clone(), format!("{cmd} --dry-run")],
            config: None,
            rank: 1,
        });
    }

    // Sessions that never ran a query long after they connected.
    let min_age = t.leak_idle_age.as_secs_f64();
    let mut never: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for s in sessions.iter().filter(|s| {
        s.never_queried && !s.via_pgbouncer && s.connected_seconds.unwrap_or(0.0) > min_age
    }) {
        let e = never.entry(s.application.clone()).or_insert((0, 0.0));
        e.0 += 1;
        e.1 = e.1.max(s.connected_seconds.unwrap_or(0.0));
    }
    for (app, (n, oldest)) in never {
        out.push(Finding {
            id: "never_queried".into(),
            severity: Severity::Warning,
            title: format!("{n} session(s) of {} connected but never ran a query", if app.is_empty() { "(no application_name)" } else { &app }),
            evidence: vec![format!("connected for up to {} without a single query", age(oldest))],
            why: "a connection opened and never used is a slot taken for nothing: typically a client created \
                  eagerly (per import, per request) and forgotten"
                .into(),
            recommendation: "find where the application opens connections it never uses; terminate these".into(),
            commands: vec![format!(
                "{prefix} kill --app {} --idle-longer-than {}",
                shell_quote(&app),
                floor_duration(min_age)
            )],
            config: None,
            rank: 2,
        });
    }

    // The same client address holding far more sessions than it uses.
    let mut by_client: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.via_pgbouncer) {
        let Some(client) = s.client.as_deref().filter(|c| *c != "local") else {
            continue;
        };
        let e = by_client.entry(client.to_string()).or_insert((0, 0));
        e.0 += 1;
        if matches!(s.state, Some(State::Active | State::IdleInTransaction)) {
            e.1 += 1;
        }
    }
    for (client, (held, used)) in by_client {
        if held >= t.leak_min_sessions.max(1) && used * 5 <= held {
            out.push(Finding {
                id: "client_hoarding".into(),
                severity: Severity::Info,
                title: format!("client {client} holds {held} sessions and uses {used} of them"),
                evidence: vec![format!("{held} sessions from {client}, {used} active or in a transaction now")],
                why: "a host that keeps many more connections than it ever uses at once has an oversized pool (or \
                      one pool per worker process)"
                    .into(),
                recommendation: "shrink that host's pool size (see the pool budget), or pool through PgBouncer".into(),
                commands: vec![format!("{prefix} sessions --client {}", shell_quote(&client))],
                config: None,
                rank: 3,
            });
        }
    }
}

fn idle_transaction_findings(
    sessions: &[Session],
    args: &AdviseRequest,
    prefix: &str,
    out: &mut Vec<Finding>,
) {
    let limit = args.thresholds.idle_in_transaction_age.as_secs_f64();
    let mut holders: Vec<&Session> = sessions
        .iter()
        .filter(|s| {
            matches!(
                s.state,
                Some(State::IdleInTransaction | State::IdleInTransactionAborted)
            ) && s.state_seconds.unwrap_or(0.0) > limit
        })
        .collect();
    if holders.is_empty() {
        return;
    }
    holders.sort_by(|a, b| {
        b.state_seconds
            .unwrap_or(0.0)
            .total_cmp(&a.state_seconds.unwrap_or(0.0))
    });
    let xmin = holders.iter().any(|s| s.xmin_age.is_some());
    let evidence = holders
        .iter()
        .take(10)
        .map(|s| {
            format!(
                "pid {} ({}, user {}): idle in transaction for {}, transaction open {}{}",
                s.pid,
                if s.application.is_empty() {
                    "-"
                } else {
                    &s.application
                },
                s.user.as_deref().unwrap_or("?"),
                crate::report::opt_age(s.state_seconds),
                crate::report::opt_age(s.transaction_seconds),
                s.xmin_age
                    .map(|a| format!(", holds back the xmin horizon by {a} transactions"))
                    .unwrap_or_default()
            )
        })
        .collect();
    out.push(Finding {
        id: "idle_in_transaction".into(),
        severity: if holders.iter().any(|s| s.state_seconds.unwrap_or(0.0) > limit * 6.0) {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!("{} session(s) idle in transaction for longer than {}", holders.len(), age(limit)),
        evidence,
        why: format!(
            "an open transaction holds its locks and its connection{}; the application forgot to COMMIT or \
             ROLLBACK (or waits on something outside the database)",
            if xmin { ", and its snapshot stops vacuum from removing dead rows (table and index bloat)" } else { "" }
        ),
        recommendation: "terminate them, and set idle_in_transaction_session_timeout so the server does it itself"
            .into(),
        commands: vec![
            format!(
                "{prefix} kill-idle --state idle-in-transaction --state idle-in-transaction-aborted --older-than {}",
                floor_duration(limit)
            ),
        ],
        config: None,
        rank: 4,
    });
}

fn timeout_findings(
    sessions: &[Session],
    settings: &[Setting],
    overrides: &[Override],
    prefix: &str,
    out: &mut Vec<Finding>,
) {
    // (database, role) pairs that hold sessions now.
    let mut pairs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.via_pgbouncer) {
        if let (Some(d), Some(u)) = (&s.database, &s.user) {
            let roles = pairs.entry(d.clone()).or_default();
            if !roles.contains(u) {
                roles.push(u.clone());
            }
        }
    }
    let effective = |name: &str, db: &str, role: &str| -> Option<String> {
        let find = |d: Option<&str>, r: Option<&str>| {
            overrides
                .iter()
                .find(|o| o.name == name && o.database.as_deref() == d && o.role.as_deref() == r)
                .map(|o| o.value.clone())
        };
        find(Some(db), Some(role))
            .or_else(|| find(None, Some(role)))
            .or_else(|| find(Some(db), None))
            .or_else(|| find(None, None))
            .or_else(|| {
                settings
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| s.server_value.clone())
            })
    };
    for (name, severity, value, rank, why, caveat) in [
        (
            "idle_in_transaction_session_timeout",
            Severity::Warning,
            "5min",
            5,
            "a session left idle in a transaction holds locks and a connection, and blocks vacuum, until somebody \
             notices",
            "safe for nearly every application: no correct application sits in an open transaction for minutes",
        ),
        (
            "statement_timeout",
            Severity::Info,
            "30s",
            6,
            "a runaway query holds its connection (and a pool slot) for as long as it runs",
            "set it for the application's database or role, not server-wide: migrations, reports and batch jobs \
             need longer (give their roles their own value)",
        ),
        (
            "idle_session_timeout",
            Severity::Info,
            "10min",
            7,
            "sessions idle for hours are usually leaks; the server can close them itself (PostgreSQL 14+)",
            "do NOT set it where a connection pool keeps idle connections on purpose (application pools, \
             PgBouncer's server connections): they would see dropped connections. Set it for roles that connect \
             directly, or let the pooler close idle server connections (server_idle_timeout)",
        ),
    ] {
        if !settings.iter().any(|s| s.name == name) {
            continue; // not on this server version
        }
        let unit = settings.iter().find(|s| s.name == name).and_then(|s| s.unit.clone());
        let off = |v: &str| is_off(v, unit.as_deref());
        let unset: Vec<&String> = pairs
            .iter()
            .filter(|(db, roles)| roles.iter().any(|r| effective(name, db, r).as_deref().is_none_or(off)))
            .map(|(db, _)| db)
            .collect();
        if unset.is_empty() {
            continue;
        }
        let unit = unit.unwrap_or_default();
        out.push(Finding {
            id: format!("timeout_unset_{name}"),
            severity,
            title: format!(
                "{name} is off for database{} {}",
                if unset.len() == 1 { "" } else { "s" },
                unset.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ),
            evidence: vec![format!(
                "{name} = 0{} (off) at every scope that applies to the sessions there: server, database and role",
                if unit.is_empty() { String::new() } else { format!(" {unit}") }
            )],
            why: why.into(),
            recommendation: format!("set {name} = {value} per database ({caveat})"),
            commands: unset
                .iter()
                .map(|d| format!("{prefix} tune set {name}={value} --database {}", shell_quote(d)))
                .collect(),
            config: None,
            rank,
        });
    }
}

pub fn pool_budget(
    sessions: &[Session],
    usable: i32,
    headroom_percent: f64,
) -> (Vec<PoolBudget>, usize) {
    let mut apps: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.via_pgbouncer && s.visible) {
        let e = apps.entry(s.application.clone()).or_insert((0, 0));
        e.0 += 1;
        if s.state != Some(State::Idle) {
            e.1 += 1;
        }
    }
    let budget =
        ((f64::from(usable.max(0)) * (1.0 - headroom_percent / 100.0)).floor() as usize).max(1);
    let mut rows: Vec<PoolBudget> = apps
        .into_iter()
        .map(|(application, (held, in_use))| PoolBudget {
            application,
            held,
            in_use,
            // What is in use now plus half again for bursts, at least 2.
            suggested: (in_use + in_use.div_ceil(2)).max(2),
        })
        .collect();
    let total: usize = rows.iter().map(|r| r.suggested).sum();
    if total > budget {
        for r in &mut rows {
            r.suggested = ((r.suggested * budget) / total).max(1);
        }
    }
    rows.sort_by(|a, b| {
        b.held
            .cmp(&a.held)
            .then_with(|| a.application.cmp(&b.application))
    });
    (rows, budget)
}

fn pool_budget_findings(
    st: &StatusReport,
    sessions: &[Session],
    args: &AdviseRequest,
    out: &mut Vec<Finding>,
) {
    let (rows, budget) = pool_budget(sessions, st.capacity.usable_slots, args.headroom);
    if rows.is_empty() {
        return;
    }
    let held: usize = rows.iter().map(|r| r.held).sum();
    let suggested: usize = rows.iter().map(|r| r.suggested).sum();
    let evidence = rows
        .iter()
        .map(|r| {
            format!(
                "{:<24} holds {:>4}, in use {:>4} -> pool size {}",
                if r.application.is_empty() {
                    "(no application_name)"
                } else {
                    &r.application
                },
                r.held,
                r.in_use,
                r.suggested
            )
        })
        .collect();
    out.push(Finding {
        id: "pool_budget".into(),
        severity: if held > budget { Severity::Warning } else { Severity::Info },
        title: format!(
            "pool budget: applications hold {held} connections; pool sizes totalling {suggested} fit into {budget} slots ({:.0}% headroom)",
            args.headroom
        ),
        evidence,
        why: "the sum of every application's pool size (times its processes) must fit into the slots ordinary \
              roles can use, with headroom for deploys (old and new instances connect at once) and admins"
            .into(),
        recommendation: "set each application's pool size to its suggestion (per process: divide by the number \
                         of processes or replicas): Prisma: connection_limit=N in the connection URL; node-postgres \
                         / TypeORM: max: N (TypeORM: extra: { max: N }); PHP-FPM with persistent connections: \
                         pm.max_children = N across its pools; other pools: pool size / maximum connections N"
            .into(),
        commands: vec![],
        config: None,
        rank: 8,
    });
}

/// A pgbouncer.ini sized from what was observed.
pub fn pgbouncer_ini(st: &StatusReport, sessions: &[Session], host: &str, port: &str) -> String {
    let mut dbs: BTreeMap<String, usize> = BTreeMap::new();
    let mut pair_in_use: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.visible) {
        let Some(d) = &s.database else { continue };
        *dbs.entry(d.clone()).or_insert(0) += 1;
        let e = pair_in_use
            .entry((d.clone(), s.user.clone().unwrap_or_default()))
            .or_insert(0);
        if s.state != Some(State::Idle) {
            *e += 1;
        }
    }
    let peak = pair_in_use.values().copied().max().unwrap_or(0);
    let usable = st.capacity.usable_slots.max(1) as usize;
    let max_db = ((usable * 8 / 10) / dbs.len().max(1)).max(2);
    let default_pool_size = (peak * 2).clamp(5, max_db.max(5));
    let reserve = (default_pool_size / 4).max(2);
    let max_client_conn = (st.sessions * 2).div_ceil(100).max(1) * 100;
    let mut ini = String::new();
    ini.push_str(&format!(
        ";; pgbouncer.ini sized by pgconn advise from {} ({} client sessions, at most {} in use per database/user now)\n",
        st.target, st.sessions, peak
    ));
    ini.push_str("[databases]\n");
    for d in dbs.keys() {
        let quoted = if d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            d.clone()
        } else {
            format!("\"{}\"", d.replace('"', "\"\""))
        };
        ini.push_str(&format!(
            "{quoted} = host={host} port={port} dbname={quoted}\n"
        ));
    }
    ini.push_str(&format!(
        "\n[pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = 6432\n\
         auth_type = scram-sha-256\n\
         auth_file = /etc/pgbouncer/userlist.txt\n\
         ; transaction pooling: a server connection per transaction, not per client\n\
         pool_mode = transaction\n\
         ; server connections per database/user pair: twice the peak in use seen now\n\
         default_pool_size = {default_pool_size}\n\
         reserve_pool_size = {reserve}\n\
         reserve_pool_timeout = 3\n\
         ; never more server connections per database than fit into the server's {usable} usable slots\n\
         max_db_connections = {max_db}\n\
         ; clients may connect freely: they wait for a server connection instead of failing\n\
         max_client_conn = {max_client_conn}\n\
         ; close server connections idle for a minute\n\
         server_idle_timeout = 60\n\
         server_lifetime = 3600\n\
         ignore_startup_parameters = extra_float_digits,options\n"
    ));
    ini
}

fn pgbouncer_recommendation(
    st: &StatusReport,
    sessions: &[Session],
    db: &Db,
    out: &mut Vec<Finding>,
) {
    let visible: Vec<&Session> = sessions.iter().filter(|s| s.visible).collect();
    let n = visible.len();
    if n < 20 {
        return;
    }
    let idle = visible
        .iter()
        .filter(|s| s.state == Some(State::Idle))
        .count();
    let idle_share = idle as f64 / n as f64;
    let busy_share = n as f64 / f64::from(st.capacity.usable_slots.max(1));
    if idle_share < 0.6 && busy_share < 0.5 {
        return;
    }
    let spec = db.spec();
    let host = spec
        .get("host")
        .unwrap_or("localhost")
        .split(',')
        .next()
        .unwrap_or("localhost")
        .to_string();
    let port = spec
        .get("port")
        .unwrap_or("5432")
        .split(',')
        .next()
        .unwrap_or("5432")
        .to_string();
    let ini = pgbouncer_ini(st, sessions, &host, &port);
    out.push(Finding {
        id: "pgbouncer_recommended".into(),
        severity: Severity::Info,
        title: format!("{n} client sessions, {:.0}% of them idle: a pooler would need far fewer connections", idle_share * 100.0),
        evidence: vec![
            format!("{idle} of {n} sessions are idle; they hold {:.0}% of the usable slots", busy_share * 100.0),
        ],
        why: "PgBouncer in transaction mode gives a server connection to a client only for the length of a \
              transaction, so hundreds of mostly idle clients share a few dozen server connections"
            .into(),
        recommendation: "put PgBouncer in front (pgbouncer.ini below; write the users to auth_file). Caveats of \
                         transaction mode: session state does not survive between transactions (SET, advisory \
                         locks, LISTEN, temporary tables, WITH HOLD cursors); prepared statements need PgBouncer \
                         1.21+ with max_prepared_statements (or turn them off in the driver); Prisma needs \
                         ?pgbouncer=true in its URL"
            .into(),
        commands: vec![],
        config: Some(ini),
        rank: 9,
    });
}

fn pgbouncer_findings(b: &PgbouncerSnapshot, st: &StatusReport, out: &mut Vec<Finding>) {
    for p in b
        .pools
        .iter()
        .filter(|p| analysis::pool_level(p) != Level::Ok)
    {
        out.push(Finding {
            id: "pgbouncer_pool_saturated".into(),
            severity: if analysis::pool_level(p) == Level::Critical { Severity::Critical } else { Severity::Warning },
            title: format!(
                "PgBouncer pool {}/{}: {} client(s) waiting, longest {:.3}s",
                p.database, p.user, p.clients_waiting, p.max_wait_seconds
            ),
            evidence: vec![format!(
                "clients active {}, waiting {}; server connections active {}, idle {}, used {}",
                p.clients_active, p.clients_waiting, p.servers_active, p.servers_idle, p.servers_used
            )],
            why: "every server connection of the pool is busy, so clients queue: requests slow down even though \
                  the server may have slots left"
                .into(),
            recommendation: format!(
                "find the slow transactions (pgconn sessions --state active), or raise the pool size for \
                 database {} (pool_size in [databases] or default_pool_size) while it fits into the server's {} \
                 slots left",
                p.database, st.capacity.slots_left
            ),
            commands: vec![],
            config: None,
            rank: 2,
        });
    }
    let max_servers = b.max_server_connections();
    if max_servers > i64::from(st.capacity.usable_slots) {
        out.push(Finding {
            id: "pgbouncer_pools_exceed_server".into(),
            severity: Severity::Warning,
            title: format!(
                "PgBouncer may open {max_servers} server connections; the server has {} usable slots",
                st.capacity.usable_slots
            ),
            evidence: b
                .databases
                .iter()
                .map(|d| format!("[databases] {}: pool_size {}, reserve_pool {}", d.name, d.pool_size, d.reserve_pool))
                .collect(),
            why: "when all pools fill up, PgBouncer's own connections hit \"too many clients\" and its clients get \
                  errors instead of waiting"
                .into(),
            recommendation: format!(
                "cap PgBouncer's server connections below {}: lower default_pool_size / pool_size or set \
                 max_db_connections",
                st.capacity.usable_slots
            ),
            commands: vec![],
            config: None,
            rank: 3,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("leaky-worker"), "leaky-worker");
        assert_eq!(shell_quote("my app"), "'my app'");
        assert_eq!(shell_quote("it's"), "\"it's\"");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a;rm -rf"), "'a;rm -rf'");
    }

    #[test]
    fn timeouts_off() {
        let ms = Some("ms");
        assert!(is_off("0", ms));
        assert!(is_off("0ms", ms));
        assert!(is_off("0min", ms));
        assert!(is_off("", ms));
        assert!(!is_off("5min", ms));
        assert!(!is_off("300000", ms));
        assert!(!is_off("1ms", ms));
    }

    #[test]
    fn durations_round_down() {
        assert_eq!(floor_duration(600.0), "10min");
        assert_eq!(floor_duration(3.9), "3s");
        assert_eq!(floor_duration(90.0), "90s");
    }
}
