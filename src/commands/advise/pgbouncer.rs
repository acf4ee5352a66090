//! PgBouncer: with `--pgbouncer`, its pools that make clients wait and pools that could open more server
//! connections than the server has slots; without it, whether a pooler would help, with a pgbouncer.ini
//! sized from what was observed.

use std::collections::BTreeMap;

use super::Inputs;
use crate::analysis;
use crate::report::advise::{Finding, PoolingBreaker, Severity};
use crate::report::pgbouncer::PgbouncerSnapshot;
use crate::report::platform::Platform;
use crate::report::status::StatusReport;
use crate::report::watch::Churn;
use crate::report::Level;
use crate::report::{Session, State};

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    match &i.pgbouncer {
        Some(b) => pgbouncer_findings(b, &i.status, &mut out),
        None if i.status.platform.managed().is_some() => provider_pooler(i, &mut out),
        None => pgbouncer_recommendation(
            &i.status,
            &i.sessions,
            crate::analysis::churn::total(&i.churn).as_ref(),
            &i.breakers,
            &i.host,
            &i.port,
            &mut out,
        ),
    }
    out
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

/// Whether a pooler would help, and the evidence line that says why: at least 20 visible sessions, and
/// most of them idle (60 %), or half the usable slots held, or a connection storm (status's rule: clients
/// connecting per request pay a backend start each time, which a pooler's standing connections absorb).
fn pooling_pressure(st: &StatusReport, sessions: &[Session]) -> Option<Pressure> {
    let visible: Vec<&Session> = sessions.iter().filter(|s| s.visible).collect();
    let n = visible.len();
    if n < 20 {
        return None;
    }
    let idle = visible
        .iter()
        .filter(|s| s.state == Some(State::Idle))
        .count();
    let idle_share = idle as f64 / n as f64;
    let busy_share = n as f64 / f64::from(st.capacity.usable_slots.max(1));
    if idle_share < 0.6 && busy_share < 0.5 && !st.new_sessions.storm {
        return None;
    }
    Some(Pressure {
        n,
        idle_share,
        evidence: format!(
            "{idle} of {n} sessions are idle; they hold {:.0}% of the usable slots",
            busy_share * 100.0
        ),
    })
}

/// What [`pooling_pressure`] saw.
struct Pressure {
    /// Visible sessions.
    n: usize,
    idle_share: f64,
    evidence: String,
}

fn pgbouncer_recommendation(
    st: &StatusReport,
    sessions: &[Session],
    churn: Option<&Churn>,
    breakers: &[PoolingBreaker],
    host: &str,
    port: &str,
    out: &mut Vec<Finding>,
) {
    let Some(Pressure {
        n,
        idle_share,
        evidence,
    }) = pooling_pressure(st, sessions)
    else {
        return;
    };
    let storm = st.new_sessions.storm;
    let ini = pgbouncer_ini(st, sessions, host, port);
    let mut evidence = vec![evidence];
    if storm {
        evidence.push(format!(
            "connection storm: {} of {} client sessions ({:.0}%) started in the last {} s",
            st.new_sessions.sessions,
            st.sessions,
            st.new_sessions.share_percent,
            st.new_sessions.younger_than_seconds
        ));
    }
    if let Some(c) = churn.filter(|c| !c.reset) {
        evidence.push(format!(
            "{} sessions started in {:.1} s ({} a second, pg_stat_database.sessions)",
            c.sessions_started.unwrap_or(0),
            c.seconds,
            c.sessions_per_second.unwrap_or(0.0)
        ));
    }
    let breaking = breaking_lines(breakers);
    evidence.extend(breaking.iter().cloned());
    let title = if storm {
        format!(
            "connection storm: {:.0}% of {n} client sessions are younger than {} s: a pooler would keep \
             standing connections instead",
            st.new_sessions.share_percent, st.new_sessions.younger_than_seconds
        )
    } else {
        format!(
            "{n} client sessions, {:.0}% of them idle: a pooler would need far fewer connections",
            idle_share * 100.0
        )
    };
    out.push(Finding {
        id: "pgbouncer_recommended".into(),
        severity: if storm { Severity::Warning } else { Severity::Info },
        title,
        evidence,
        why: "PgBouncer in transaction mode gives a server connection to a client only for the length of a \
              transaction, so hundreds of mostly idle clients share a few dozen server connections"
            .into(),
        recommendation: format!(
            "put PgBouncer in front (pgbouncer.ini below; write the users to auth_file). Caveats of \
             transaction mode: session state does not survive between transactions (SET, advisory \
             locks, LISTEN, temporary tables, WITH HOLD cursors); {}prepared statements need PgBouncer \
             1.21+ with max_prepared_statements (or turn them off in the driver); Prisma needs \
             ?pgbouncer=true in its URL",
            if breaking.is_empty() {
                String::new()
            } else {
                format!(
                    "in this database {} rely on it (evidence): connect them directly, or through a \
                     separate pool with pool_mode = session (a second [databases] entry, e.g. \
                     app_session = host=... dbname=app pool_mode=session); ",
                    breaker_apps(breakers)
                )
            }
        ),
        commands: vec![],
        config: Some(ini),
        rank: 9,
    });
}

/// On a managed platform: the provider's own pooler, with its caveats, instead of a pgbouncer.ini
/// (there is no host to run PgBouncer on next to the server). The same trigger as
/// [`pgbouncer_recommendation`]: at least 20 visible sessions, most of them idle, or a connection storm.
fn provider_pooler(i: &Inputs, out: &mut Vec<Finding>) {
    let Some(p) = i.status.platform.managed() else {
        return;
    };
    let st = &i.status;
    let Some(pressure) = pooling_pressure(st, &i.sessions) else {
        return;
    };
    let mut evidence = vec![
        pressure.evidence,
        format!(
            "platform {} ({})",
            p.name(),
            st.platform.evidence.join(", ")
        ),
    ];
    let breaking = breaking_lines(&i.breakers);
    evidence.extend(breaking.iter().cloned());
    let host = i.host.trim_end_matches('.').to_ascii_lowercase();
    let (pooler, recommendation, commands): (&str, String, Vec<String>) = match p {
        Platform::AwsRds | Platform::AwsAurora => (
            "RDS Proxy",
            "put RDS Proxy in front of the instance (https://docs.aws.amazon.com/AmazonRDS/latest/\
             UserGuide/rds-proxy.html). Caveats: a client is pinned to one server connection for the \
             rest of its session when it changes session state (SET, temporary tables, advisory locks, \
             prepared statements of some drivers), which undoes the pooling for it; the proxy's \
             connections are capped by MaxConnectionsPercent of max_connections"
                .into(),
            vec![],
        ),
        Platform::AzureFlexible => {
            // the server's name only when it is one DNS label (the command is copied into a shell)
            let server = host
                .strip_suffix(".postgres.database.azure.com")
                .filter(|s| crate::commands::tune::provider::label_ok(s))
                .unwrap_or("<server-name>");
            (
                "the built-in PgBouncer",
                "turn on the server's built-in PgBouncer (server parameter pgbouncer.enabled = true, \
                 no restart) and connect the applications to port 6432 of the same host. Caveats: \
                 transaction mode (session state does not survive between transactions); its pool is \
                 pgbouncer.default_pool_size (50) server connections per user and database"
                    .into(),
                vec![format!(
                    "az postgres flexible-server parameter set --resource-group {} --server-name {} \
                     --name pgbouncer.enabled --value true",
                    crate::report::shell_quote("<resource-group>"),
                    crate::report::shell_quote(server)
                )],
            )
        }
        Platform::Supabase => (
            "Supavisor",
            "connect the applications through Supavisor: transaction mode on port 6543 (session mode \
             on 5432). Caveats: transaction mode keeps no session state between transactions; \
             Supavisor and PgBouncer share one pool size, so using both can open up to twice its \
             backends"
                .into(),
            vec![],
        ),
        Platform::Neon => {
            // ep-name-123456.region.aws.neon.tech → ep-name-123456-pooler.region.aws.neon.tech (tune's
            // provider commands name it the same way)
            let pooled = crate::commands::tune::provider::neon_pooler_host(Some(&host))
                .unwrap_or_else(|| "<endpoint-id>-pooler.<region>.aws.neon.tech".into());
            (
                "the -pooler host",
                format!(
                    "connect the applications to {pooled} (Neon's PgBouncer, transaction mode). Caveats: \
                     SET, LISTEN/NOTIFY, temporary tables and SQL-level PREPARE are not supported \
                     through it; its pool is 90% of max_connections per user and database"
                ),
                vec![],
            )
        }
        Platform::CloudSql => (
            "managed connection pooling",
            "use Cloud SQL's managed connection pooling (https://cloud.google.com/sql/docs/postgres/\
             managed-connection-pooling; its details are not verified by pgconn)"
                .into(),
            vec![],
        ),
    };
    out.push(Finding {
        id: "provider_pooler_recommended".into(),
        severity: if st.new_sessions.storm {
            Severity::Warning
        } else {
            Severity::Info
        },
        title: format!(
            "{} client sessions, {:.0}% of them idle: {} on {} would need far fewer connections",
            pressure.n,
            pressure.idle_share * 100.0,
            pooler,
            p.title()
        ),
        evidence,
        why: "a pooler gives a server connection to a client only for the length of a transaction, so \
              hundreds of mostly idle clients share a few dozen server connections; on a managed \
              platform the provider's own pooler runs next to the server, where a PgBouncer of one's \
              own cannot"
            .into(),
        recommendation: if breaking.is_empty() {
            recommendation
        } else {
            format!(
                "{recommendation}; in this database {} rely on session state (evidence): connect them \
                 directly",
                breaker_apps(&i.breakers)
            )
        },
        commands,
        config: None,
        rank: 9,
    });
}

/// Whether a session is of one kind of [`breaking_lines`].
type BreakerKind = fn(&PoolingBreaker) -> bool;

/// What transaction pooling would break in this database, one line per kind: "LISTEN listeners (their
/// notifications go to the session that listened): 1 session of app-a (pid 4711)".
fn breaking_lines(breakers: &[PoolingBreaker]) -> Vec<String> {
    let kinds: [(&str, BreakerKind); 3] = [
        (
            "LISTEN listeners (notifications go to the session that listened; the next transaction runs on another)",
            |b| b.listener,
        ),
        (
            "advisory-lock holders (a session-level lock stays with the server connection, not the client)",
            |b| b.advisory_lock,
        ),
        (
            "temporary-table holders (the tables live in one server connection)",
            |b| b.temp_tables,
        ),
    ];
    kinds
        .iter()
        .filter_map(|(what, is)| {
            let mut apps: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
            for b in breakers.iter().filter(|b| is(b)) {
                apps.entry(b.application.as_str()).or_default().push(b.pid);
            }
            if apps.is_empty() {
                return None;
            }
            let who: Vec<String> = apps
                .iter()
                .map(|(app, pids)| {
                    let shown: Vec<String> = pids.iter().take(5).map(|p| p.to_string()).collect();
                    format!(
                        "{} session{} of {} (pid{} {}{})",
                        pids.len(),
                        if pids.len() == 1 { "" } else { "s" },
                        if app.is_empty() {
                            "(no application_name)"
                        } else {
                            app
                        },
                        if pids.len() == 1 { "" } else { "s" },
                        shown.join(", "),
                        if pids.len() > 5 { ", …" } else { "" }
                    )
                })
                .collect();
            Some(format!(
                "transaction pooling would break {what}: {}",
                who.join("; ")
            ))
        })
        .collect()
}

/// The applications that rely on session state, for the recommendation.
fn breaker_apps(breakers: &[PoolingBreaker]) -> String {
    let apps: std::collections::BTreeSet<&str> = breakers
        .iter()
        .map(|b| {
            if b.application.is_empty() {
                "(no application_name)"
            } else {
                b.application.as_str()
            }
        })
        .collect();
    apps.into_iter().collect::<Vec<_>>().join(", ")
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
