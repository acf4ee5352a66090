//! Churn (PostgreSQL 14+, pg_stat_database's session counters): sessions their clients abandoned (TCP
//! keepalives and `client_connection_check_interval` find a vanished client), and sessions a set
//! `idle_session_timeout` ends while something keeps opening them again (a pool holding them idle).
//! Rates come from two reads `--rate-window` apart; the totals since the last statistics reset are
//! evidence too (a 2-second window rarely sees a client die).

use super::timeouts::is_off;
use super::Inputs;
use crate::analysis::churn;
use crate::report::advise::{Finding, Severity};

/// Abandoned sessions since the statistics reset that make the finding without a rate: at least this
/// many, and at least 1% of the sessions started.
const ABANDONED_MIN: i64 = 10;

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let total = churn::total(&i.churn).filter(|t| !t.reset);
    let counters = i.status.session_counters.as_deref().unwrap_or_default();
    let (started, abandoned, fatal) = counters.iter().fold((0, 0, 0), |(s, a, f), c| {
        (s + c.sessions, a + c.abandoned, f + c.fatal)
    });
    let since = "since the statistics were last reset (or the server started)";

    // Abandoned: the client went away without a Terminate message.
    let window_abandoned = total.as_ref().and_then(|t| t.abandoned).unwrap_or(0);
    let cumulative = abandoned >= ABANDONED_MIN && abandoned * 100 >= started;
    if window_abandoned > 0 || cumulative {
        let mut evidence = Vec::new();
        if let Some(t) = &total {
            evidence.push(format!(
                "{window_abandoned} session(s) abandoned in the last {:.1} s ({} a minute)",
                t.seconds,
                t.abandoned_per_minute.unwrap_or(0.0)
            ));
        }
        evidence.push(format!(
            "{abandoned} of {started} sessions {since} were abandoned (pg_stat_database.sessions_abandoned)"
        ));
        if window_abandoned > 0 {
            for c in i.churn.iter().filter(|c| c.abandoned.unwrap_or(0) > 0) {
                evidence.push(format!(
                    "database {}: {} abandoned in the window",
                    c.database,
                    c.abandoned.unwrap_or(0)
                ));
            }
        } else {
            for c in counters.iter().filter(|c| c.abandoned > 0) {
                evidence.push(format!(
                    "database {}: {} abandoned",
                    c.database, c.abandoned
                ));
            }
        }
        out.push(Finding {
            id: "sessions_abandoned".into(),
            severity: if window_abandoned > 0 { Severity::Warning } else { Severity::Info },
            title: format!(
                "clients abandon their sessions: {abandoned} ended without a Terminate message {since}"
            ),
            evidence,
            why: "a client that crashes, is killed or loses its network leaves the server to notice on its own: \
                  over TCP a session whose client host vanished holds its slot (and any transaction's locks) \
                  until the kernel's keepalive gives up, two hours by default"
                .into(),
            recommendation: "let the server probe idle client connections sooner (TCP keepalives; they do not \
                             apply to unix-socket clients) and check for a vanished client during long queries \
                             (client_connection_check_interval, PostgreSQL 14+ on Linux); then find why the \
                             clients die without closing (crashes, OOM kills, pods stopped with SIGKILL)"
                .into(),
            commands: vec![format!(
                "{} tune set tcp_keepalives_idle=60 tcp_keepalives_interval=10 tcp_keepalives_count=6 \
                 client_connection_check_interval=10s --system",
                i.prefix
            )],
            config: None,
            rank: 6,
        });
    }

    // FATAL next to a set idle_session_timeout: the timeout is ending sessions a pool keeps idle.
    let timeout_set: Vec<String> = i
        .settings
        .iter()
        .filter(|s| s.name == "idle_session_timeout" && !is_off(&s.server_value, s.unit.as_deref()))
        .map(|s| {
            format!(
                "server-wide {}{}",
                s.server_value,
                s.unit.as_deref().unwrap_or("")
            )
        })
        .chain(
            i.overrides
                .iter()
                .filter(|o| o.name == "idle_session_timeout" && !is_off(&o.value, None))
                .map(|o| {
                    let mut w = Vec::new();
                    if let Some(d) = &o.database {
                        w.push(format!("database {d}"));
                    }
                    if let Some(r) = &o.role {
                        w.push(format!("role {r}"));
                    }
                    format!("{} for {}", o.value, w.join(" in "))
                }),
        )
        .collect();
    let fatal_per_minute = total
        .as_ref()
        .and_then(|t| t.fatal_per_minute)
        .unwrap_or(0.0);
    if !timeout_set.is_empty() && fatal_per_minute > 0.0 {
        let t = total.as_ref().expect("a rate comes from a window");
        out.push(Finding {
            id: "idle_session_timeout_churn".into(),
            severity: Severity::Warning,
            title: format!(
                "the timeout is ending {fatal_per_minute} sessions a minute: is a pool keeping them idle?"
            ),
            evidence: vec![
                format!(
                    "{} session(s) ended by a FATAL error in the last {:.1} s; {fatal} {since}",
                    t.fatal.unwrap_or(0),
                    t.seconds
                ),
                format!("idle_session_timeout is set: {}", timeout_set.join("; ")),
            ],
            why: "idle_session_timeout ends sessions a pool holds idle on purpose; the pool then reconnects, \
                  and its clients may get an error on a connection that was closed under them. sessions_fatal \
                  counts every FATAL ending, so other errors may be among them"
                .into(),
            recommendation: "let the pool close idle connections itself before the server does (its idle \
                             timeout or maximum lifetime below idle_session_timeout), or raise the timeout for \
                             the pool's role or database; watch the rate with pgconn watch"
                .into(),
            commands: vec![format!("{} watch", i.prefix)],
            config: None,
            rank: 7,
        });
    }
    out
}
