//! Leaks: applications that hold idle sessions they never give back, sessions that never ran a query, and
//! client hosts that hold far more sessions than they use.

use std::collections::BTreeMap;

use super::{floor_duration, Inputs};
use crate::report::advise::{Finding, Severity};
use crate::report::{age, shell_quote, typed_duration};
use crate::report::{Session, State};

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let (st, sessions, prefix) = (&i.status, &i.sessions, &i.prefix);
    let t = &i.request.thresholds;
    let mut out = Vec::new();
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
            ]
            .into_iter()
            .chain(l.statement.as_ref().map(|d| d.evidence()))
            .collect(),
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
    out
}
