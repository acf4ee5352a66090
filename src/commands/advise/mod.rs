//! `pgconn advise`: from what the server (and optionally PgBouncer) shows to findings with the exact fix.
//!
//! Everything is computed from one session snapshot, the connection-related settings and where they are set,
//! and (with `--pgbouncer`) PgBouncer's console. Each finding carries its evidence (numbers from this server),
//! why it matters, and commands that work as printed.
//!
//! [`collect`] reads all of it once into `Inputs`; each rule is then a function of `Inputs` alone, in a
//! file of its own (`capacity`, `leak`, `idle_transaction`, `timeouts`, `pool_budget`, `pgbouncer`), and
//! `RULES` runs them in order.

use std::time::{Duration, Instant};

use anyhow::Result;
use postgres::types::Type;

use crate::activity::{self, Filter};
use crate::analysis::{self, Grouping, Thresholds};
use crate::commands::status::{self, StatusRequest};
use crate::conninfo;
use crate::db::ConnOptions;
use crate::db::Db;
use crate::report::advise::{AdviseReport, Finding, PoolingBreaker, Sampling};
use crate::report::pgbouncer::PgbouncerSnapshot;
use crate::report::shell_quote;
use crate::report::status::{SessionCounters, StatusReport};
use crate::report::typed_duration;
use crate::report::watch::Churn;
use crate::report::{ServerFacts, Session};

mod capacity;
mod churn;
mod idle_transaction;
mod leak;
mod pgbouncer;
mod pool_budget;
mod role_limit;
mod timeouts;

pub use pgbouncer::pgbouncer_ini;
pub use pool_budget::pool_budget;

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

/// A timeout's server-wide value: what a session gets when no database or role setting applies.
struct Setting {
    name: String,
    server_value: String,
    unit: Option<String>,
}

/// A timeout set for a database, a role, or a role in one database.
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

/// The timeouts' server-wide values, their database / role settings and what could not be read; with
/// `counters`, pg_stat_database's session counters read in the same statement.
type SettingsRead = (
    Vec<Setting>,
    Vec<Override>,
    Vec<String>,
    Option<Vec<SessionCounters>>,
);

fn read_settings(db: &mut Db, counters: bool) -> Result<SettingsRead> {
    let names: Vec<String> = TIMEOUTS.iter().map(|s| s.to_string()).collect();
    let sql = if db.facts()?.can_read_file_settings {
        include_str!("../../sql/advise_settings.sql")
    } else {
        include_str!("../../sql/advise_settings_default.sql")
    };
    let sql = sql.replace(
        "/*SESSION_COUNTERS_JSON*/",
        if counters {
            activity::session_counters_sql()
        } else {
            "NULL::text"
        },
    );
    let rows = db.query(&sql, &[(&names, Type::TEXT_ARRAY)])?;
    let mut read_counters = None;
    if let Some(r) = rows.first() {
        if let Some(json) = r.try_get::<_, Option<String>>("session_counters")? {
            read_counters =
                Some(serde_json::from_str(&json).map_err(|e| {
                    anyhow::anyhow!("the settings statement's session_counters: {e}")
                })?);
        }
    }
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
        include_str!("../../sql/advise_overrides.sql"),
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
    Ok((settings, overrides, skipped, read_counters))
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
    /// pg_stat_database's session counters are read twice this far apart, for rates (zero: once).
    pub rate_window: Duration,
    /// Read the working sessions per application this many times (0: not at all; pool sizes then come
    /// from the one snapshot).
    pub samples: usize,
    /// Between two samples.
    pub interval: Duration,
    /// Read the samples from this `watch --record` file instead of sampling.
    pub from: Option<std::path::PathBuf>,
}

/// Idle in transaction for less than this counts as working (between two statements of a transaction the
/// application holds its connection); longer is a leak (`idle_in_transaction`), not demand.
pub const SHORT_IDLE_IN_TRANSACTION: Duration = Duration::from_secs(5);

impl Default for AdviseRequest {
    /// The command line's: status's thresholds, 20% headroom.
    fn default() -> Self {
        AdviseRequest {
            filter: Filter::default(),
            thresholds: Thresholds::default(),
            pgbouncer: None,
            headroom: 20.0,
            rate_window: Duration::from_secs(2),
            samples: 10,
            interval: Duration::from_secs(1),
            from: None,
        }
    }
}

pub fn collect(db: &mut Db, conn: &ConnOptions, args: &AdviseRequest) -> Result<AdviseReport> {
    // Counted on the server by status itself (the pooler's pools read once, its server connections
    // counted apart); the rows are read for the findings that name sessions.
    let req = StatusRequest {
        filter: args.filter.clone(),
        grouping: Grouping {
            top: 0,
            ..Grouping::default()
        },
        thresholds: args.thresholds.clone(),
        pgbouncer: args.pgbouncer.clone(),
        session_counters: true,
        leak_statements: true,
        ..Default::default()
    };
    let mut st = status::collect(db, &req)?;
    let first_read = Instant::now();
    let bouncer = st.pgbouncer.take();
    let pooler_pids = bouncer
        .as_ref()
        .map(|b| b.server_pids.clone())
        .unwrap_or_default();
    let mut sessions = activity::sessions(db, &req.filter, false, None)?.sessions;
    activity::mark_pgbouncer(&mut sessions, &pooler_pids);
    let breakers = activity::pooling_breakers(db, &req.filter, &pooler_pids)?;
    // The samples: the first now, each next `interval` after the one before (on the same connection, one
    // statement each); the rate window below overlaps them.
    let mut recording_notes = Vec::new();
    let sampling = if let Some(path) = &args.from {
        let (sampling, notes) = pool_budget::read_recording(path)?;
        recording_notes = notes;
        Some(sampling)
    } else if args.samples > 0 {
        let mut samples = Vec::with_capacity(args.samples);
        let start = Instant::now();
        for n in 0..args.samples {
            let at = args.interval.saturating_mul(n as u32);
            std::thread::sleep(at.saturating_sub(start.elapsed()));
            samples.push(activity::working_sample(
                db,
                &req.filter,
                &pooler_pids,
                SHORT_IDLE_IN_TRANSACTION,
            )?);
        }
        Some(Sampling {
            source: "server".into(),
            samples: samples.len(),
            seconds: start.elapsed().as_secs_f64(),
            idle_in_transaction_seconds: SHORT_IDLE_IN_TRANSACTION.as_secs_f64(),
            applications: pool_budget::demand(&samples),
        })
    } else {
        None
    };
    // Rates need a second read of the counters: it comes with the settings, read last, once the window
    // since the first read (with the status statement) has passed.
    let rates = !args.rate_window.is_zero();
    if rates {
        std::thread::sleep(args.rate_window.saturating_sub(first_read.elapsed()));
    }
    let (settings, overrides, mut skipped, second) = read_settings(db, rates)?;
    skipped.extend(recording_notes);
    let churn = match (st.session_counters.as_deref(), second.as_deref()) {
        (Some(before), Some(after)) => {
            analysis::churn::rates(before, after, first_read.elapsed().as_secs_f64())
        }
        _ => Vec::new(),
    };
    // The totals since the reset: the newest read.
    if second.is_some() {
        st.session_counters = second;
    }
    if !db.facts()?.can_read_all_stats {
        skipped.push(format!(
            "role {} cannot see other roles' sessions (no pg_read_all_stats): leaks and idle transactions of \
             those roles cannot be found (GRANT pg_read_all_stats TO ...)",
            db.facts()?.current_user
        ));
    }
    // A generated pgbouncer.ini points at the host and port this run was given (the first of several).
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
    let inputs = Inputs {
        facts: db.facts()?.clone(),
        status: st,
        sessions,
        settings,
        overrides,
        pgbouncer: bouncer,
        host,
        port,
        prefix: command_prefix(conn),
        request: args.clone(),
        churn,
        sampling,
        breakers,
    };
    let findings = findings(&inputs);
    let Inputs {
        status: st,
        pgbouncer: bouncer,
        churn,
        sampling,
        ..
    } = inputs;
    Ok(AdviseReport {
        target: st.target,
        connection: st.connection,
        server_version: st.server.version,
        capacity: st.capacity,
        sessions: st.sessions,
        findings,
        skipped,
        pgbouncer: bouncer,
        churn,
        sampling,
    })
}

/// Everything the rules read, gathered once by [`collect`]: each rule is a function of this alone.
struct Inputs {
    /// Status's report of the same selection (its PgBouncer snapshot moved to `pgbouncer`).
    status: StatusReport,
    /// The sessions themselves, PgBouncer's server connections marked.
    sessions: Vec<Session>,
    /// The timeouts' server-wide values (only the timeouts this server version has).
    settings: Vec<Setting>,
    /// The timeouts' database and role settings.
    overrides: Vec<Override>,
    facts: ServerFacts,
    /// PgBouncer's console, with `--pgbouncer`.
    pgbouncer: Option<PgbouncerSnapshot>,
    /// The server's host and port as a generated pgbouncer.ini names them.
    host: String,
    port: String,
    /// `pgconn` and the connection options, so suggested commands reach the same server.
    prefix: String,
    request: AdviseRequest,
    /// Sessions started and ended per database over `--rate-window` (empty when not measured).
    churn: Vec<Churn>,
    /// Working sessions per application over `--samples` (None: not sampled).
    sampling: Option<Sampling>,
    /// Sessions transaction pooling would break: LISTEN listeners, advisory-lock and temp-table holders.
    breakers: Vec<PoolingBreaker>,
}

/// The rules, in the order their findings are listed before sorting (equal severity and rank keep it).
const RULES: [fn(&Inputs) -> Vec<Finding>; 8] = [
    capacity::findings,
    leak::findings,
    role_limit::findings,
    idle_transaction::findings,
    timeouts::findings,
    churn::findings,
    pool_budget::findings,
    pgbouncer::findings,
];

/// Every rule's findings, the most severe first.
fn findings(i: &Inputs) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES.iter().flat_map(|rule| rule(i)).collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rank.cmp(&b.rank)));
    findings
}

/// The largest whole number of seconds not above `secs`, as a duration to type back in.
fn floor_duration(secs: f64) -> String {
    typed_duration(std::time::Duration::from_secs(secs.max(0.0).floor() as u64))
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
    fn durations_round_down() {
        assert_eq!(floor_duration(600.0), "10min");
        assert_eq!(floor_duration(3.9), "3s");
        assert_eq!(floor_duration(90.0), "90s");
    }

    use crate::analysis::status::{report, Tally};
    use crate::report::advise::Severity;
    use crate::report::State;

    fn facts(max_connections: i32, superuser_reserved_connections: i32) -> ServerFacts {
        ServerFacts {
            version: "17.2".into(),
            version_num: 170002,
            max_connections,
            superuser_reserved_connections,
            reserved_connections: Some(0),
            backend_pid: 1,
            current_user: "postgres".into(),
            database: "app".into(),
            is_superuser: true,
            can_read_all_stats: true,
            can_signal_backend: true,
            can_read_file_settings: true,
            platform: Default::default(),
            rds_superuser_reserved_connections: None,
        }
    }

    fn session(pid: i32, database: &str, user: &str, state: State, state_seconds: f64) -> Session {
        Session {
            pid,
            database: Some(database.into()),
            user: Some(user.into()),
            application: "worker".into(),
            client: Some("10.0.0.7".into()),
            client_port: Some(40000 + pid),
            state: Some(state),
            connected_seconds: Some(state_seconds + 1.0),
            state_seconds: Some(state_seconds),
            transaction_seconds: Some(state_seconds),
            query_seconds: Some(state_seconds),
            visible: true,
            ..Session::default()
        }
    }

    /// Inputs built by hand, as `collect` would gather them from a server with these facts, `used` slots
    /// taken and these sessions.
    fn inputs(facts: ServerFacts, used: i64, sessions: Vec<Session>) -> Inputs {
        let tally = Tally {
            used,
            ..Tally::default()
        };
        let status = report(
            "db1:5432/app",
            &Default::default(),
            &facts,
            &tally,
            &Grouping::default(),
            &Thresholds::default(),
            None,
        );
        Inputs {
            status,
            sessions,
            settings: Vec::new(),
            overrides: Vec::new(),
            facts,
            pgbouncer: None,
            host: "db1".into(),
            port: "5432".into(),
            prefix: "pgconn -h db1".into(),
            request: AdviseRequest::default(),
            churn: Vec::new(),
            sampling: None,
            breakers: Vec::new(),
        }
    }

    fn timeout(name: &str, server_value: &str) -> Setting {
        Setting {
            name: name.into(),
            server_value: server_value.into(),
            unit: Some("ms".into()),
        }
    }

    fn set(database: Option<&str>, role: Option<&str>, name: &str, value: &str) -> Override {
        Override {
            database: database.map(String::from),
            role: role.map(String::from),
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn idle_transactions_are_judged_from_the_inputs_alone() {
        // The default limit is 5min: one session past six times it, one past it, one under it.
        let i = inputs(
            facts(100, 3),
            4,
            vec![
                session(11, "app", "web", State::IdleInTransaction, 2000.0),
                session(12, "app", "web", State::IdleInTransactionAborted, 400.0),
                session(13, "app", "web", State::IdleInTransaction, 299.0),
            ],
        );
        let found = idle_transaction::findings(&i);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.id, "idle_in_transaction");
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.title.starts_with("2 session(s) idle in transaction"),
            "{}",
            f.title
        );
        // The oldest first.
        assert!(f.evidence[0].starts_with("pid 11 "), "{:?}", f.evidence);
        assert!(f.evidence[1].starts_with("pid 12 "), "{:?}", f.evidence);
        assert_eq!(
            f.commands,
            ["pgconn -h db1 kill-idle --state idle-in-transaction --state idle-in-transaction-aborted \
              --older-than 5min"]
        );

        // Under the limit, nothing; and the other rules find nothing in a quiet server either.
        let quiet = inputs(
            facts(100, 3),
            2,
            vec![session(13, "app", "web", State::IdleInTransaction, 299.0)],
        );
        assert!(idle_transaction::findings(&quiet).is_empty());
        assert!(capacity::findings(&quiet).is_empty());
        assert!(leak::findings(&quiet).is_empty());
    }

    #[test]
    fn a_timeout_is_off_only_where_no_scope_sets_it() {
        let name = "idle_in_transaction_session_timeout";
        let mut i = inputs(
            facts(100, 3),
            4,
            vec![
                session(21, "app", "web", State::Idle, 1.0),
                session(22, "reports", "analyst", State::Idle, 1.0),
                session(23, "batch", "etl", State::Idle, 1.0),
            ],
        );
        i.settings = vec![timeout(name, "0")];
        i.overrides = vec![
            // Set for the database app, for the role analyst anywhere, and turned off again for etl in batch
            // although batch has it.
            set(Some("app"), None, name, "5min"),
            set(None, Some("analyst"), name, "1min"),
            set(Some("batch"), None, name, "5min"),
            set(Some("batch"), Some("etl"), name, "0"),
        ];
        let found = timeouts::findings(&i);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, format!("timeout_unset_{name}"));
        assert_eq!(found[0].title, format!("{name} is off for database batch"));
        assert_eq!(
            found[0].commands,
            [format!(
                "pgconn -h db1 tune set {name}=5min --database batch"
            )]
        );

        // Set server-wide: no finding; a timeout this server does not have: no finding either.
        i.settings = vec![timeout(name, "300000")];
        i.overrides.clear();
        assert!(timeouts::findings(&i).is_empty());
        i.settings.clear();
        assert!(timeouts::findings(&i).is_empty());
    }

    #[test]
    fn full_slots_come_first_and_a_low_reserve_is_its_own_finding() {
        // 20 slots, 2 reserved: 18 usable, all taken; a session idle in transaction for 6 minutes.
        let i = inputs(
            facts(20, 2),
            18,
            vec![session(31, "app", "web", State::IdleInTransaction, 360.0)],
        );
        let ids: Vec<(String, Severity)> = findings(&i)
            .into_iter()
            .map(|f| (f.id, f.severity))
            .collect();
        assert_eq!(
            ids,
            [
                ("capacity".to_string(), Severity::Critical),
                ("idle_in_transaction".to_string(), Severity::Warning),
                ("reserved_slots_low".to_string(), Severity::Warning),
                ("pool_budget".to_string(), Severity::Info),
            ]
        );
    }

    fn sampled(apps: &[(&str, &[usize], usize)]) -> Sampling {
        let n = apps.iter().map(|a| a.1.len()).max().unwrap_or(0);
        let samples: Vec<Vec<crate::report::advise::WorkingCount>> = (0..n)
            .map(|k| {
                apps.iter()
                    .map(
                        |(app, working, waiters)| crate::report::advise::WorkingCount {
                            application: app.to_string(),
                            held: 200,
                            working: working[k],
                            lock_waiters: *waiters,
                        },
                    )
                    .collect()
            })
            .collect();
        Sampling {
            source: "server".into(),
            samples: n,
            seconds: n as f64,
            idle_in_transaction_seconds: 5.0,
            applications: pool_budget::demand(&samples),
        }
    }

    #[test]
    fn php_fpm_workers_get_a_pool_that_covers_their_working_peak() {
        // 196 PHP-FPM workers with persistent connections and no application_name, all idle at the
        // instant of the snapshot: from that instant alone the pool size is 2.
        let sessions: Vec<Session> = (0..196)
            .map(|n| Session {
                application: String::new(),
                ..session(1000 + n, "app", "www", State::Idle, 3.0)
            })
            .collect();
        let mut i = inputs(facts(300, 3), 196, sessions);
        i.request.samples = 0;
        let f = pool_budget::findings(&i);
        assert!(f[0].evidence[0].contains("-> pool size 2"), "{f:?}");

        // Sampled: up to 37 of them worked at once (4 waiting on a lock are not counted).
        i.sampling = Some(sampled(&[("", &[2, 3, 37, 4, 0, 1, 12, 5, 2, 0], 4)]));
        let (rows, _) = pool_budget::pool_budget(
            &i.sessions,
            i.sampling.as_ref().map(|s| s.applications.as_slice()),
            i.status.capacity.usable_slots,
            20.0,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].working_peak, Some(37));
        assert!(rows[0].suggested >= 37, "{rows:?}");
        assert_eq!(rows[0].suggested, 37 + 19);
        let f = pool_budget::findings(&i);
        assert!(
            f[0].evidence.iter().any(|e| e
                == "(no application_name): working sessions over 10 samples: 2 3 37 4 0 1 12 5 2 0, peak 37 \
                    (up to 4 waiting on a lock, not counted: a larger pool would only add waiters)"),
            "{f:#?}"
        );
    }

    #[test]
    fn pool_sizes_never_shrink_below_a_working_peak() {
        // 20 slots, 2 reserved, 20% headroom: a budget of 14; peaks of 8 and 9 do not fit, and neither
        // pool goes below its peak: the finding says so.
        let mut i = inputs(
            facts(20, 2),
            3,
            vec![
                session(1, "app", "web", State::Idle, 3.0),
                Session {
                    application: "batch".into(),
                    ..session(2, "app", "etl", State::Idle, 3.0)
                },
            ],
        );
        i.sessions[0].application = "web".into();
        i.sampling = Some(sampled(&[("web", &[8, 1], 0), ("batch", &[2, 9], 0)]));
        let (rows, budget) = pool_budget::pool_budget(
            &i.sessions,
            i.sampling.as_ref().map(|s| s.applications.as_slice()),
            18,
            20.0,
        );
        assert_eq!(budget, 14);
        let size = |a: &str| rows.iter().find(|r| r.application == a).unwrap().suggested;
        assert_eq!((size("web"), size("batch")), (8, 9));
        let f = pool_budget::findings(&i);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.contains("the working peaks alone (17) exceed the 14 slots")),
            "{f:#?}"
        );
    }

    #[test]
    fn on_a_managed_platform_the_provider_s_pooler_replaces_the_pgbouncer_ini() {
        use crate::report::platform::{detect, Platform, PlatformChoice};
        let idle: Vec<Session> = (0..25)
            .map(|n| session(100 + n, "app", "web", State::Idle, 600.0))
            .collect();
        let plain = pgbouncer::findings(&inputs(facts(100, 3), 26, idle.clone()));
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].id, "pgbouncer_recommended");
        assert!(plain[0].config.is_some());

        let on = |p: Platform, host: &str| {
            let mut f = facts(100, 3);
            f.platform = detect(PlatformChoice::Given(p), None, &Default::default());
            let mut i = inputs(f, 26, idle.clone());
            i.host = host.into();
            pgbouncer::findings(&i)
        };
        let neon = on(
            Platform::Neon,
            "ep-cool-darkness-123456.us-east-2.aws.neon.tech",
        );
        assert_eq!(neon.len(), 1);
        assert_eq!(neon[0].id, "provider_pooler_recommended");
        assert!(neon[0].config.is_none(), "no pgbouncer.ini");
        assert!(
            neon[0]
                .recommendation
                .contains("ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"),
            "{:?}",
            neon[0].recommendation
        );
        let azure = on(
            Platform::AzureFlexible,
            "myserver.postgres.database.azure.com",
        );
        assert!(azure[0].commands[0].contains("--server-name myserver --name pgbouncer.enabled"));
        let azure_ip = on(Platform::AzureFlexible, "10.0.0.5");
        assert!(azure_ip[0].commands[0].contains("--server-name '<server-name>'"));
        assert!(azure_ip[0].commands[0].contains("--resource-group '<resource-group>'"));
        // A host name that is no DNS label before the suffix is never printed into the command.
        let hostile = on(
            Platform::AzureFlexible,
            "a$(touch x).postgres.database.azure.com",
        );
        assert!(
            hostile[0].commands[0].contains("--server-name '<server-name>'")
                && !hostile[0].commands[0].contains("touch"),
            "{:?}",
            hostile[0].commands
        );
        let rds = on(Platform::AwsRds, "db1");
        assert!(rds[0].recommendation.contains("RDS Proxy"));
        assert!(rds[0].recommendation.contains("MaxConnectionsPercent"));
        // Few sessions: nothing, as without a platform.
        assert!(pgbouncer::findings(&{
            let mut f = facts(100, 3);
            f.platform = detect(
                PlatformChoice::Given(Platform::Supabase),
                None,
                &Default::default(),
            );
            inputs(f, 6, idle[..5].to_vec())
        })
        .is_empty());
    }

    #[test]
    fn the_pool_budget_names_the_provider_s_pool_size_and_its_source() {
        use crate::report::platform::{detect, Platform, PlatformChoice};
        let idle: Vec<Session> = (0..4)
            .map(|n| session(100 + n, "app", "web", State::Idle, 600.0))
            .chain((0..2).map(|n| session(200 + n, "app", "batch", State::Idle, 600.0)))
            .collect();
        let budget_of = |p: Option<Platform>| {
            let mut f = facts(100, 3);
            if let Some(p) = p {
                f.platform = detect(PlatformChoice::Given(p), None, &Default::default());
            }
            let f = pool_budget::findings(&inputs(f, 7, idle.clone()));
            assert_eq!(f.len(), 1);
            f[0].evidence.clone()
        };
        // Self-hosted: no provider line.
        assert!(budget_of(None)
            .iter()
            .all(|e| !e.contains("provider's pooler")));
        // Azure: 100 − 15 reserved = 85 usable, 20% headroom: 68; 2 pairs × 50 = 100 > 68.
        let azure = budget_of(Some(Platform::AzureFlexible));
        assert!(azure
            .iter()
            .any(|e| e
                .contains("50 server connections per user and database by default (documented")));
        assert!(
            azure.iter().any(|e| e.contains(
                "the 2 user/database pairs seen, 50 each, could open up to 100 server connections, more \
                 than the 68 slots of the budget: lower pgbouncer.default_pool_size to 34 or less"
            )),
            "{azure:#?}"
        );
        // Neon: 90% of 100 per pair.
        let neon = budget_of(Some(Platform::Neon));
        assert!(neon
            .iter()
            .any(|e| e.contains("90% of max_connections (100), 90 server connections per user")));
        // RDS Proxy: one limit for the whole proxy, 100 at the default 100%: more than 100 − 3 − 2 … budget.
        let rds = budget_of(Some(Platform::AwsRds));
        assert!(
            rds.iter()
                .any(|e| e.contains("MaxConnectionsPercent") && e.contains("documented: AWS")),
            "{rds:#?}"
        );
        assert!(rds
            .iter()
            .any(|e| e.contains("the proxy could open up to 100")));
        // Supabase and Cloud SQL: no number.
        assert!(budget_of(Some(Platform::Supabase))
            .iter()
            .any(|e| e.contains("up to twice") && !e.contains("could open")));
        let gcp = budget_of(Some(Platform::CloudSql));
        assert!(gcp.iter().any(|e| e.contains("pool size unverified")));
        assert!(gcp.iter().all(|e| !e.contains("could open")));
    }
}
