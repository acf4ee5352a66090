//! `pgconn status`: how full the server is, sessions per state, idle ages, who holds the connections, and
//! a verdict with its reasons. One query, which counts the sessions on the server (per database, user,
//! application, state and, when grouped by it, client) so that thousands of sessions cost no more to
//! report than a handful; everything else is one pass over those counts.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use postgres::types::Type;

use crate::activity::{self, Filter, Snapshot};
use crate::cli::{GroupKey, StatusArgs, Thresholds};
use crate::db::{Db, ServerFacts};
use crate::report::status::{
    Capacity, Group, IdleStats, LeakSuspect, ServerInfo, StatusReport, Verdict,
};
use crate::report::{round1, round3, Level};
use crate::report::{state_key, KNOWN_STATES};

pub fn collect(db: &mut Db, args: &StatusArgs) -> Result<StatusReport> {
    let bouncer = match &args.pgbouncer {
        Some(ci) => Some(crate::pgbouncer::snapshot(ci, db.show_sql())?),
        None => None,
    };
    let filter = Filter::from_args(&args.filters);
    let pgbouncer_pids = bouncer
        .as_ref()
        .map(|b| b.server_pids.clone())
        .unwrap_or_default();
    let tally = count_on_server(db, &filter, args, &pgbouncer_pids, None)?;
    let mut report = build_from(&db.target_label(), &db.facts, &tally, args);
    if let Some(b) = &bouncer {
        // Clients queueing in the pooler are part of the verdict, by the rule advise uses too.
        for p in b.pools.iter().filter(|p| p.level() != Level::Ok) {
            if report.verdict.status == Level::Ok {
                // The capacity line was only there for want of a reason.
                report.verdict.reasons.clear();
            }
            report.verdict.status = report.verdict.status.max(p.level());
            report.verdict.reasons.push(format!(
                "PgBouncer pool {}/{}: {} client(s) waiting for a server connection, longest {:.3}s",
                p.database, p.user, p.clients_waiting, p.max_wait_seconds
            ));
        }
    }
    report.pgbouncer = bouncer;
    Ok(report)
}

/// Client sessions counted per database, user, application, client, state and whether a PgBouncer holds
/// them: everything status needs, whether the server counted them ([`collect`]) or they were counted from a
/// snapshot's rows ([`build`]).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Client backends in use, pgconn's own included.
    pub used: i64,
    pub buckets: Vec<Bucket>,
    /// Over the idle sessions (unrounded).
    pub idle: IdleStats,
}

/// Sessions with the same database, user, application, client (when grouping by client) and state.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// None when this role may not see the state.
    pub state: Option<String>,
    pub via_pgbouncer: bool,
    pub sessions: usize,
    /// Sessions in their state for longer than --leak-idle-age.
    pub older_than_leak_age: usize,
    /// Sessions in their state for longer than --idle-in-transaction-age.
    pub older_than_idle_in_transaction_age: usize,
    /// Sessions in their state for longer than the caller's own age (`check --idle-age`), when given.
    pub older_than_extra_age: usize,
    pub oldest_state_seconds: Option<f64>,
    pub oldest_xact_seconds: Option<f64>,
}

static STATUS_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| activity::assemble(include_str!("../sql/status.sql")));

/// Count the sessions on the server, in one statement with the shared filter.
pub fn count_on_server(
    db: &mut Db,
    filter: &Filter,
    args: &StatusArgs,
    pgbouncer_pids: &[i32],
    extra_age: Option<Duration>,
) -> Result<Tally> {
    let fp = filter.params();
    let mut params = fp.refs();
    let by_client = args.by.contains(&GroupKey::Client);
    let pids = pgbouncer_pids.to_vec();
    let leak_age = args.thresholds.leak_idle_age.as_secs_f64();
    let iit_age = args.thresholds.idle_in_transaction_age.as_secs_f64();
    params.push((&by_client, Type::BOOL));
    params.push((&pids, Type::INT4_ARRAY));
    params.push((&leak_age, Type::FLOAT8));
    params.push((&iit_age, Type::FLOAT8));
    let extra_age = extra_age.map(|d| d.as_secs_f64());
    params.push((&extra_age, Type::FLOAT8));
    let rows = db.query(&STATUS_SQL, &params)?;
    let mut tally = Tally::default();
    for row in rows {
        tally.used = i64::from(row.get::<_, i32>("used"));
        tally.idle.median_seconds = row.get("idle_median_seconds");
        tally.idle.p95_seconds = row.get("idle_p95_seconds");
        // No bucket: nothing matched the filter.
        let Some(sessions) = row.get::<_, Option<i32>>("sessions") else {
            continue;
        };
        let count = |name: &str| usize::try_from(row.get::<_, i32>(name)).unwrap_or(0);
        let bucket = Bucket {
            database: row.get("database"),
            user: row.get("user"),
            application: row.get("application"),
            client: row.get("client"),
            state: row.get("state"),
            via_pgbouncer: row.get("via_pgbouncer"),
            sessions: usize::try_from(sessions).unwrap_or(0),
            older_than_leak_age: count("older_than_leak_age"),
            older_than_idle_in_transaction_age: count("older_than_idle_in_transaction_age"),
            older_than_extra_age: count("older_than_extra_age"),
            oldest_state_seconds: row.get("oldest_state_seconds"),
            oldest_xact_seconds: row.get("oldest_xact_seconds"),
        };
        if bucket.state.as_deref() == Some("idle") {
            tally.idle.count += count("with_age");
            tally.idle.oldest_seconds =
                max_opt(tally.idle.oldest_seconds, bucket.oldest_state_seconds);
        }
        tally.buckets.push(bucket);
    }
    Ok(tally)
}

/// Count a snapshot's sessions the way [`count_on_server`] does.
pub fn tally(snap: &Snapshot, args: &StatusArgs) -> Tally {
    type Key = (
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        bool,
    );
    let leak_age = args.thresholds.leak_idle_age.as_secs_f64();
    let iit_age = args.thresholds.idle_in_transaction_age.as_secs_f64();
    let by_client = args.by.contains(&GroupKey::Client);
    let mut buckets: BTreeMap<Key, Bucket> = BTreeMap::new();
    let mut idle_ages = Vec::new();
    for s in &snap.sessions {
        let client = if by_client { s.client.clone() } else { None };
        let key = (
            s.database.clone(),
            s.user.clone(),
            s.application.clone(),
            client.clone(),
            s.state.clone(),
            s.via_pgbouncer,
        );
        let b = buckets.entry(key).or_insert_with(|| Bucket {
            database: s.database.clone(),
            user: s.user.clone(),
            application: s.application.clone(),
            client,
            state: s.state.clone(),
            via_pgbouncer: s.via_pgbouncer,
            ..Bucket::default()
        });
        b.sessions += 1;
        if let Some(age) = s.state_seconds {
            b.older_than_leak_age += usize::from(age > leak_age);
            b.older_than_idle_in_transaction_age += usize::from(age > iit_age);
            if s.state.as_deref() == Some("idle") {
                idle_ages.push(age);
            }
        }
        b.oldest_state_seconds = max_opt(b.oldest_state_seconds, s.state_seconds);
        b.oldest_xact_seconds = max_opt(b.oldest_xact_seconds, s.transaction_seconds);
    }
    idle_ages.sort_by(f64::total_cmp);
    Tally {
        used: snap.used,
        buckets: buckets.into_values().collect(),
        idle: IdleStats {
            count: idle_ages.len(),
            oldest_seconds: idle_ages.last().copied(),
            median_seconds: percentile(&idle_ages, 0.5),
            p95_seconds: percentile(&idle_ages, 0.95),
        },
    }
}

/// Linear interpolation between closest ranks (PostgreSQL's percentile_cont) over sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = p * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn empty_states() -> BTreeMap<String, usize> {
    KNOWN_STATES.iter().map(|s| (state_key(s), 0)).collect()
}

fn key_value(s: &Bucket, k: GroupKey) -> Option<String> {
    match k {
        GroupKey::Database => s.database.clone(),
        GroupKey::User => s.user.clone(),
        GroupKey::Application => Some(s.application.clone()),
        GroupKey::Client => s.client.clone(),
        // The one JSON spelling of a state (as in `states`); tables show it with spaces.
        GroupKey::State => s.state.as_deref().map(crate::report::state_key),
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
}

impl Acc {
    fn add(&mut self, b: &Bucket) {
        self.sessions += b.sessions;
        let key = b
            .state
            .as_deref()
            .map(state_key)
            .unwrap_or_else(|| "not_visible".into());
        *self.states.entry(key).or_insert(0) += b.sessions;
        match b.state.as_deref() {
            // A pooler's idle server connections are its pool, not a leak.
            Some("idle") if b.via_pgbouncer => {}
            Some("idle") => {
                self.idle += b.sessions;
                self.idle_old += b.older_than_leak_age;
                self.oldest_idle = max_opt(self.oldest_idle, b.oldest_state_seconds);
            }
            Some("active") => self.active += b.sessions,
            _ => {}
        }
    }

    /// The leak rule: many idle sessions that are either old or hoard a large share of the slots.
    fn leak_reason(&self, t: &Thresholds, usable: i32, name: &str) -> Option<String> {
        let min = t.leak_min_sessions.max(1);
        if self.idle < min {
            return None;
        }
        let share = share_percent(self.idle, usable);
        if self.idle_old >= min {
            Some(format!(
                "possible connection leak: {name} holds {} sessions idle for longer than {} (oldest {}; {} active)",
                self.idle_old,
                crate::report::age(t.leak_idle_age.as_secs_f64()),
                crate::report::opt_age(self.oldest_idle),
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

fn share_percent(n: usize, usable: i32) -> f64 {
    if usable <= 0 {
        return 100.0;
    }
    n as f64 * 100.0 / f64::from(usable)
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

/// The report for a snapshot's sessions (the same as [`collect`] gives for the sessions it counts), for
/// callers that need the rows anyway (`advise`).
pub fn build(
    target: &str,
    facts: &ServerFacts,
    snap: &Snapshot,
    args: &StatusArgs,
) -> StatusReport {
    build_from(target, facts, &tally(snap, args), args)
}

/// The report for counted sessions.
pub fn build_from(
    target: &str,
    facts: &ServerFacts,
    tally: &Tally,
    args: &StatusArgs,
) -> StatusReport {
    let t = &args.thresholds;
    let usable = facts.usable_slots();
    let used = tally.used;
    let slots_left = (i64::from(usable) - used).max(0);
    let used_percent = if usable > 0 {
        used as f64 * 100.0 / f64::from(usable)
    } else {
        100.0
    };

    let mut states = empty_states();
    let mut not_visible = 0;
    let mut sessions = 0;
    let mut via_pgbouncer = 0;
    let mut oldest_xact: Option<f64> = None;
    let mut oldest_iit: Option<f64> = None;
    let mut iit_over = 0usize;
    let mut groups: BTreeMap<Vec<Option<String>>, Acc> = BTreeMap::new();
    let mut leak_groups: BTreeMap<(Option<String>, Option<String>, String), Acc> = BTreeMap::new();

    for b in &tally.buckets {
        sessions += b.sessions;
        match b.state.as_deref() {
            None => not_visible += b.sessions,
            Some(st) => *states.entry(state_key(st)).or_insert(0) += b.sessions,
        }
        if matches!(
            b.state.as_deref(),
            Some("idle in transaction") | Some("idle in transaction (aborted)")
        ) {
            oldest_iit = max_opt(oldest_iit, b.oldest_state_seconds);
            iit_over += b.older_than_idle_in_transaction_age;
        }
        oldest_xact = max_opt(oldest_xact, b.oldest_xact_seconds);
        let key: Vec<Option<String>> = args.by.iter().map(|k| key_value(b, *k)).collect();
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
                    share_of_usable_percent: round1(share_percent(acc.idle, usable)),
                    reason,
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
            let name = args
                .by
                .iter()
                .zip(&key)
                .map(|(k, v)| format!("{}={}", k.name(), v.as_deref().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(" ");
            Group {
                possible_leak: acc.leak_reason(t, usable, &name).is_some(),
                key: args.by.iter().map(|k| k.name()).zip(key).collect(),
                sessions: acc.sessions,
                states,
                oldest_idle_seconds: acc.oldest_idle.map(round3),
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
    if args.top > 0 {
        group_list.truncate(args.top);
    }

    // Verdict.
    let mut level = Level::Ok;
    let mut reasons = Vec::new();
    let reserved_total = i64::from(facts.max_connections - usable);
    let in_reserved_slots = (used - i64::from(usable)).max(0);
    let capacity = Capacity {
        max_connections: facts.max_connections,
        superuser_reserved_connections: facts.superuser_reserved_connections,
        reserved_connections: facts.reserved_connections,
        usable_slots: usable,
        used,
        slots_left,
        used_percent: round1(used_percent),
        in_reserved_slots,
        reserved_slots_left: (reserved_total - in_reserved_slots).max(0),
        level: Level::Ok,
    };
    let cap_text = capacity.describe();
    let capacity_level = if used_percent >= t.crit_used || slots_left == 0 {
        reasons.push(format!("{cap_text} (critical at {}%)", t.crit_used));
        Level::Critical
    } else if used_percent >= t.warn_used {
        reasons.push(format!("{cap_text} (warning at {}%)", t.warn_used));
        Level::Warning
    } else {
        Level::Ok
    };
    level = level.max(capacity_level);
    if iit_over > 0 {
        level = level.max(Level::Warning);
        reasons.push(format!(
            "{iit_over} session(s) idle in transaction for longer than {} (oldest {}): they hold locks and block vacuum",
            crate::report::age(t.idle_in_transaction_age.as_secs_f64()),
            crate::report::opt_age(oldest_iit)
        ));
    }
    for l in &leak_suspects {
        level = level.max(Level::Warning);
        reasons.push(l.reason.clone());
    }
    if reasons.is_empty() {
        reasons.push(cap_text);
    }

    let mut warnings = Vec::new();
    if not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            not_visible,
            &facts.current_user,
            "their state and ages are hidden, so state counts and ages leave them out; they are counted as used",
        ));
    }

    StatusReport {
        target: target.to_string(),
        server: ServerInfo {
            version: facts.version.clone(),
            version_num: facts.version_num,
            current_user: facts.current_user.clone(),
            is_superuser: facts.is_superuser,
        },
        capacity: Capacity {
            level: capacity_level,
            ..capacity
        },
        sessions,
        states,
        not_visible,
        idle,
        oldest_transaction_seconds: oldest_xact.map(round3),
        oldest_idle_in_transaction_seconds: oldest_iit.map(round3),
        group_by: args.by.iter().map(|k| k.name()).collect(),
        groups: group_list,
        groups_total,
        leak_suspects,
        verdict: Verdict {
            status: level,
            reasons,
        },
        warnings,
        pgbouncer: None,
        via_pgbouncer,
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_interpolate_like_percentile_cont() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[3.0], 0.95), Some(3.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((percentile(&v, 0.95).unwrap() - 95.05).abs() < 1e-9);
    }
}
