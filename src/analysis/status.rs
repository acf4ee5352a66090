//! `status`'s rules over the sessions the server counted ([`Tally`]): per-state counts, idle ages,
//! groups, the leak rule, capacity and the verdict with its reasons. `check`, `watch`, `advise` and the
//! Prometheus output read the same report.

use std::collections::BTreeMap;

use super::capacity;
use super::{Grouping, Thresholds};
use crate::report::status::{
    ActivityCount, Group, GroupKey, HeadBlocker, IdleStats, IdleTransaction, LeakSuspect,
    LimitRows, NewSessions, ServerInfo, SessionCounters, StatusReport, Verdict,
};
use crate::report::{
    empty_states, not_visible_warning, opt_age, round1, round3, typed_duration, Level, ServerFacts,
    State,
};

/// Client sessions counted per database, user, application, client, state and whether a PgBouncer holds
/// them: everything status needs, as the server counted them (`activity::count`).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Client backends in use, pgconn's own included.
    pub used: i64,
    pub buckets: Vec<Bucket>,
    /// Over the idle sessions (unrounded).
    pub idle: IdleStats,
    /// The matching session idle in transaction the longest (unrounded).
    pub oldest_idle_in_transaction: Option<IdleTransaction>,
    /// Matching sessions blocked on a lock, and the head of the most of their chains (unrounded).
    pub blocked_sessions: usize,
    pub head_blocker: Option<HeadBlocker>,
    /// postgres_exporter's counts of the same snapshot (`Counting::exporter`).
    pub activity_counts: Option<Vec<ActivityCount>>,
    /// pg_stat_database's session counters (`Counting::session_counters`).
    pub session_counters: Option<Vec<SessionCounters>>,
    /// Roles and databases with a connection limit (every one when `all_limits`).
    pub limits: LimitRows,
    /// Whether `limits` holds every role and database (`Counting::exporter`).
    pub all_limits: bool,
    /// The last statements of the idle sessions, a pooler's left out (`Counting::leak_statements`), per
    /// bucket and distinct query_id and text, from the same snapshot.
    pub leak_statements: Vec<LeakStatement>,
}

/// Idle sessions of one (database, user, application) that last ran the same statement (query_id and
/// text, as the server has them): the leak suspects' dominant statements are picked from these.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakStatement {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub query_id: Option<i64>,
    pub query: Option<String>,
    /// Whether the server cut the text at track_activity_query_size.
    pub query_cut: bool,
    pub sessions: usize,
}

/// Sessions with the same database, user, application, client (when grouping by client) and state.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// None when this role may not see the state.
    pub state: Option<State>,
    pub via_pgbouncer: bool,
    pub sessions: usize,
    /// Sessions in their state for longer than --leak-idle-age.
    pub older_than_leak_age: usize,
    /// Sessions in their state for longer than --idle-in-transaction-age.
    pub older_than_idle_in_transaction_age: usize,
    /// Sessions in their state for longer than the caller's own age (`check --idle-age`), when given.
    pub older_than_extra_age: usize,
    /// Sessions that started less than 10 seconds ago (`backend_start`).
    pub young: usize,
    pub oldest_state_seconds: Option<f64>,
    pub oldest_xact_seconds: Option<f64>,
    /// With `Counting::by_session`: the one session's backend pid and client port ...
    pub pid: Option<i32>,
    pub client_port: Option<i32>,
    /// ... and its client process, once looked up.
    pub process: Option<crate::report::ClientProcess>,
    /// With `Counting::by_statement`: the last statement's query_id and text (as the server has them),
    /// whether the server cut the text ...
    pub query_id: Option<i64>,
    pub query: Option<String>,
    pub query_cut: bool,
    /// ... and its fingerprint, once computed.
    pub statement: Option<crate::report::StatementFingerprint>,
}

/// The larger of two optional ages.
pub fn oldest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn key_value(s: &Bucket, k: GroupKey) -> Option<String> {
    match k {
        GroupKey::Database => s.database.clone(),
        GroupKey::User => s.user.clone(),
        GroupKey::Application => Some(s.application.clone()),
        GroupKey::Client => s.client.clone(),
        // The one JSON spelling of a state (as in `states`); tables show it with spaces.
        GroupKey::State => s.state.as_ref().map(State::key),
        // The program, or why there is none, in parentheses (no program is named that way).
        GroupKey::Statement => s.statement.as_ref().map(|f| f.statement.clone()),
        GroupKey::Process => s.process.as_ref().map(|p| match &p.client_program {
            Some(program) => program.clone(),
            None => format!("({})", p.client_process_status.as_str()),
        }),
    }
}

#[derive(Default)]
struct Acc {
    sessions: usize,
    states: BTreeMap<String, usize>,
    idle: usize,
    idle_old: usize,
    active: usize,
    oldest_idle: Option<f64>,
    client_pids: std::collections::BTreeSet<i32>,
    /// The statement fingerprint of the group's first bucket (`--by statement`).
    statement: Option<crate::report::StatementFingerprint>,
}

impl Acc {
    fn add(&mut self, b: &Bucket) {
        self.sessions += b.sessions;
        // the first bucket's text names the group, and its cut flag is that text's
        if self.statement.is_none() {
            self.statement = b.statement.clone();
        }
        if let Some(pid) = b.process.as_ref().and_then(|p| p.client_pid) {
            self.client_pids.insert(pid);
        }
        let key = b
            .state
            .as_ref()
            .map(State::key)
            .unwrap_or_else(|| "not_visible".into());
        *self.states.entry(key).or_insert(0) += b.sessions;
        match b.state {
            // A pooler's idle server connections are its pool, not a leak.
            Some(State::Idle) if b.via_pgbouncer => {}
            Some(State::Idle) => {
                self.idle += b.sessions;
                self.idle_old += b.older_than_leak_age;
                self.oldest_idle = oldest(self.oldest_idle, b.oldest_state_seconds);
            }
            Some(State::Active) => self.active += b.sessions,
            _ => {}
        }
    }

    /// The leak rule: many idle sessions that are either old or hoard a large share of the slots.
    fn leak_reason(&self, t: &Thresholds, usable: i32, name: &str) -> Option<String> {
        let min = t.leak_min_sessions.max(1);
        if self.idle < min {
            return None;
        }
        let share = capacity::percent_of_usable(self.idle as i64, usable);
        if self.idle_old >= min {
            Some(format!(
                "possible connection leak: {name} holds {} sessions idle for longer than {} (oldest {}; {} active)",
                self.idle_old,
                typed_duration(t.leak_idle_age),
                opt_age(self.oldest_idle),
                self.active
            ))
        } else if share >= t.leak_share {
            Some(format!(
                "possible connection leak: {name} holds {} idle sessions, {:.0}% of the {usable} slots ordinary roles can use ({} active)",
                self.idle, share, self.active
            ))
        } else {
            None
        }
    }
}

fn leak_name(db: &Option<String>, user: &Option<String>, app: &str) -> String {
    let app = if app.is_empty() {
        "(no application_name)"
    } else {
        app
    };
    format!(
        "application \"{app}\" (user {}, database {})",
        user.as_deref().unwrap_or("?"),
        db.as_deref().unwrap_or("?")
    )
}

/// The status report for counted sessions: states, idle ages, groups, leak suspects, capacity and the
/// verdict with its reasons.
pub fn report(
    target: &str,
    connection: &crate::report::ConnectionRoute,
    facts: &ServerFacts,
    tally: &Tally,
    grouping: &Grouping,
    t: &Thresholds,
    pgbouncer: Option<crate::report::pgbouncer::PgbouncerSnapshot>,
) -> StatusReport {
    let usable = capacity::usable_slots(facts).0;
    let used = tally.used;

    let mut states = empty_states();
    let mut not_visible = 0;
    let mut sessions = 0;
    let mut via_pgbouncer = 0;
    let mut young = 0;
    let mut oldest_xact: Option<f64> = None;
    let mut oldest_iit: Option<f64> = None;
    let mut iit_over = 0usize;
    let mut groups: BTreeMap<Vec<Option<String>>, Acc> = BTreeMap::new();
    let mut leak_groups: BTreeMap<(Option<String>, Option<String>, String), Acc> = BTreeMap::new();

    for b in &tally.buckets {
        sessions += b.sessions;
        young += b.young;
        match &b.state {
            None => not_visible += b.sessions,
            Some(st) => *states.entry(st.key()).or_insert(0) += b.sessions,
        }
        if matches!(
            b.state,
            Some(State::IdleInTransaction | State::IdleInTransactionAborted)
        ) {
            oldest_iit = oldest(oldest_iit, b.oldest_state_seconds);
            iit_over += b.older_than_idle_in_transaction_age;
        }
        oldest_xact = oldest(oldest_xact, b.oldest_xact_seconds);
        let key: Vec<Option<String>> = grouping.by.iter().map(|k| key_value(b, *k)).collect();
        groups.entry(key).or_default().add(b);
        if b.via_pgbouncer {
            via_pgbouncer += b.sessions;
        } else {
            // A pooler's server connections idle in its pool by design: not a leak.
            leak_groups
                .entry((b.database.clone(), b.user.clone(), b.application.clone()))
                .or_default()
                .add(b);
        }
    }

    let idle = IdleStats {
        count: tally.idle.count,
        oldest_seconds: tally.idle.oldest_seconds.map(round3),
        median_seconds: tally.idle.median_seconds.map(round3),
        p95_seconds: tally.idle.p95_seconds.map(round3),
    };

    let mut leak_suspects: Vec<LeakSuspect> = leak_groups
        .iter()
        .filter_map(|((db, user, app), acc)| {
            acc.leak_reason(t, usable, &leak_name(db, user, app))
                .map(|reason| LeakSuspect {
                    database: db.clone(),
                    user: user.clone(),
                    application: app.clone(),
                    sessions: acc.sessions,
                    idle: acc.idle,
                    idle_longer_than_threshold: acc.idle_old,
                    active: acc.active,
                    oldest_idle_seconds: acc.oldest_idle.map(round3),
                    share_of_usable_percent: round1(capacity::percent_of_usable(
                        acc.idle as i64,
                        usable,
                    )),
                    reason,
                    statement: None,
                })
        })
        .collect();
    leak_suspects.sort_by(|a, b| {
        b.idle
            .cmp(&a.idle)
            .then_with(|| a.application.cmp(&b.application))
    });

    let mut group_list: Vec<Group> = groups
        .into_iter()
        .map(|(key, acc)| {
            let mut states = empty_states();
            for (k, v) in &acc.states {
                *states.entry(k.clone()).or_insert(0) += v;
            }
            let name = grouping
                .by
                .iter()
                .zip(&key)
                .map(|(k, v)| format!("{}={}", k.name(), v.as_deref().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(" ");
            Group {
                possible_leak: acc.leak_reason(t, usable, &name).is_some(),
                key: grouping.by.iter().map(|k| k.name()).zip(key).collect(),
                sessions: acc.sessions,
                states,
                oldest_idle_seconds: acc.oldest_idle.map(round3),
                client_pids: acc.client_pids.into_iter().collect(),
                statement_text: acc
                    .statement
                    .as_ref()
                    .filter(|_| grouping.by.contains(&GroupKey::Statement))
                    .and_then(|f| f.statement_text.clone()),
                statement_cut: acc
                    .statement
                    .as_ref()
                    .filter(|_| grouping.by.contains(&GroupKey::Statement))
                    .map(|f| f.statement_cut),
            }
        })
        .collect();
    group_list.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then_with(|| {
                b.oldest_idle_seconds
                    .unwrap_or(0.0)
                    .total_cmp(&a.oldest_idle_seconds.unwrap_or(0.0))
            })
            .then_with(|| a.key.cmp(&b.key))
    });
    let groups_total = group_list.len();
    if grouping.top > 0 {
        group_list.truncate(grouping.top);
    }

    // Verdict: capacity first, then idle transactions and leaks.
    let capacity = capacity::assess(facts, used, t);
    let mut level = capacity.level;
    let mut reasons = Vec::new();
    let cap_text = capacity.describe();
    match capacity.level {
        Level::Critical => reasons.push(format!("{cap_text} (critical at {}%)", t.crit_used)),
        Level::Warning => reasons.push(format!("{cap_text} (warning at {}%)", t.warn_used)),
        _ => {}
    }
    if iit_over > 0 {
        level = level.max(Level::Warning);
        reasons.push(format!(
            "{iit_over} session(s) idle in transaction for longer than {} (oldest {}): they hold locks and block vacuum",
            typed_duration(t.idle_in_transaction_age),
            opt_age(oldest_iit)
        ));
    }
    // Roles and databases at (or near) their connection limit: the server refuses their sessions
    // before it is full.
    let limits = super::limits::judge(&tally.limits);
    for (l, reason) in &limits.limits.reasons {
        level = level.max(*l);
        reasons.push(reason.clone());
    }
    for l in &leak_suspects {
        level = level.max(Level::Warning);
        reasons.push(l.reason.clone());
    }
    let new_sessions = new_sessions(young, sessions, t.storm_share);
    if new_sessions.storm {
        level = level.max(Level::Warning);
        reasons.push(format!(
            "connection storm: {} of {} client sessions ({:.0}%) started in the last {} s (above {}%): \
             clients are connecting per request; a pooler in front would absorb it",
            new_sessions.sessions,
            sessions,
            new_sessions.share_percent,
            NewSessions::YOUNGER_THAN_SECONDS,
            t.storm_share
        ));
    }
    // Clients queueing in the pooler are part of the verdict, by the rule advise uses too.
    for p in pgbouncer.iter().flat_map(|b| b.pools.iter()) {
        let pool = super::pool_level(p);
        if pool == Level::Ok {
            continue;
        }
        level = level.max(pool);
        reasons.push(format!(
            "PgBouncer pool {}/{}: {} client(s) waiting for a server connection, longest {:.3}s",
            p.database, p.user, p.clients_waiting, p.max_wait_seconds
        ));
    }
    if reasons.is_empty() {
        reasons.push(cap_text);
    }

    let mut warnings = limits.warnings;
    if not_visible > 0 {
        warnings.push(not_visible_warning(
            not_visible,
            &facts.current_user,
            "their state and ages are hidden, so state counts and ages leave them out; they are counted as used",
        ));
    }

    StatusReport {
        target: target.to_string(),
        connection: connection.clone(),
        server: ServerInfo {
            version: facts.version.clone(),
            version_num: facts.version_num,
            current_user: facts.current_user.clone(),
            is_superuser: facts.is_superuser,
        },
        platform: facts.platform.clone(),
        capacity,
        sessions,
        states,
        not_visible,
        idle,
        oldest_transaction_seconds: oldest_xact.map(round3),
        oldest_idle_in_transaction_seconds: oldest_iit.map(round3),
        activity_counts: tally.activity_counts.clone(),
        new_sessions,
        session_counters: tally.session_counters.clone(),
        limits: limits.limits,
        limit_rows: tally.all_limits.then(|| tally.limits.clone()),
        oldest_idle_in_transaction: tally.oldest_idle_in_transaction.clone().map(|t| {
            IdleTransaction {
                idle_seconds: round3(t.idle_seconds),
                transaction_seconds: t.transaction_seconds.map(round3),
                ..t
            }
        }),
        blocked_sessions: tally.blocked_sessions,
        head_blocker: tally.head_blocker.clone().map(|h| HeadBlocker {
            state_seconds: h.state_seconds.map(round3),
            transaction_seconds: h.transaction_seconds.map(round3),
            ..h
        }),
        group_by: grouping.by.iter().map(|k| k.name()).collect(),
        groups: group_list,
        groups_total,
        leak_suspects,
        verdict: Verdict {
            status: level,
            reasons,
        },
        warnings,
        pgbouncer,
        via_pgbouncer,
    }
}

/// The share of new sessions, and whether it is a storm: above `storm_share` percent of at least
/// [`NewSessions::STORM_MIN_SESSIONS`] sessions.
pub fn new_sessions(young: usize, sessions: usize, storm_share: f64) -> NewSessions {
    let share = if sessions == 0 {
        0.0
    } else {
        young as f64 * 100.0 / sessions as f64
    };
    NewSessions {
        younger_than_seconds: NewSessions::YOUNGER_THAN_SECONDS,
        sessions: young,
        share_percent: round1(share),
        storm: sessions >= NewSessions::STORM_MIN_SESSIONS && share > storm_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_is_a_large_share_of_enough_sessions() {
        assert!(new_sessions(15, 20, 50.0).storm);
        assert!(!new_sessions(10, 20, 50.0).storm, "50% is not above 50%");
        assert!(!new_sessions(19, 19, 50.0).storm, "fewer than 20 sessions");
        assert!(!new_sessions(0, 0, 50.0).storm);
        assert_eq!(new_sessions(1, 3, 50.0).share_percent, 33.3);
    }
}
