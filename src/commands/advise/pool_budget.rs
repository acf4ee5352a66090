//! The pool budget: a pool size per application that, summed, fits into the slots ordinary roles can use
//! with the requested headroom.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};

use crate::exit::refuse;
use crate::report::platform::Platform;

use super::Inputs;
use crate::report::advise::{
    Finding, PoolBudget, PoolDemand, RecordedSample, Sampling, Severity, WorkingCount,
};
use crate::report::{Session, State};

/// The samples of a `watch --record` file (JSON lines, [`RecordedSample`]): each line one target's
/// working sessions per application at one time. A last line without its newline that does not parse
/// (a recording cut by a kill) is left out, with a note; any other line that does not parse is an
/// error naming it. A file with samples of several targets is refused (record one target for advise).
pub fn read_recording(path: &Path) -> Result<(Sampling, Vec<String>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the recording {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut notes = Vec::new();
    let mut lines: Vec<RecordedSample> = Vec::new();
    let complete = text.ends_with('\n');
    let all: Vec<&str> = text.lines().collect();
    for (n, line) in all.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RecordedSample>(line) {
            Ok(s) => lines.push(s),
            Err(_) if n + 1 == all.len() && !complete => notes.push(format!(
                "the last line of {} is cut (a recording ended by a kill?): left out",
                path.display()
            )),
            Err(e) => {
                return Err(anyhow!(
                    "{} line {}: not a watch --record sample ({e})",
                    path.display(),
                    n + 1
                ))
            }
        }
    }
    let targets: std::collections::BTreeSet<&str> =
        lines.iter().map(|l| l.target.as_str()).collect();
    if targets.len() > 1 {
        return Err(refuse(format!(
            "{} holds samples of {} targets ({}): advise --from reads the recording of one target \
             (watch --record with one target)",
            path.display(),
            targets.len(),
            targets.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    if lines.is_empty() {
        return Err(refuse(format!(
            "{} holds no samples (watch --record FILE writes them)",
            path.display()
        )));
    }
    let seconds = match (lines.first(), lines.last()) {
        (Some(a), Some(b)) => match (
            humantime::parse_rfc3339_weak(&a.time),
            humantime::parse_rfc3339_weak(&b.time),
        ) {
            (Ok(a), Ok(b)) => b.duration_since(a).map_or(0.0, |d| d.as_secs_f64()),
            _ => 0.0,
        },
        _ => 0.0,
    };
    let idle_in_transaction_seconds = lines.first().map_or(0.0, |l| l.idle_in_transaction_seconds);
    let samples: Vec<Vec<WorkingCount>> = lines.into_iter().map(|l| l.applications).collect();
    Ok((
        Sampling {
            source: path.display().to_string(),
            samples: samples.len(),
            seconds,
            idle_in_transaction_seconds,
            applications: demand(&samples),
        },
        notes,
    ))
}

/// Each application over the samples, oldest sample first: its working sessions in each (0 where it held
/// none), their peak, and the peaks of its lock waiters and of the sessions it held.
pub fn demand(samples: &[Vec<WorkingCount>]) -> Vec<PoolDemand> {
    let mut apps: BTreeMap<&str, PoolDemand> = BTreeMap::new();
    for (i, sample) in samples.iter().enumerate() {
        for w in sample {
            let d = apps
                .entry(w.application.as_str())
                .or_insert_with(|| PoolDemand {
                    application: w.application.clone(),
                    working: vec![0; samples.len()],
                    working_peak: 0,
                    lock_waiters_peak: 0,
                    held_peak: 0,
                });
            d.working[i] += w.working;
            d.working_peak = d.working_peak.max(d.working[i]);
            d.lock_waiters_peak = d.lock_waiters_peak.max(w.lock_waiters);
            d.held_peak = d.held_peak.max(w.held);
        }
    }
    apps.into_values().collect()
}

/// Each application's sessions, those in use, and a pool size for it; and the slots they must fit into:
/// `usable` less the headroom. The pool size is sized from the application's peak of working sessions
/// over the samples when `peaks` has it (from what is in use at the snapshot's instant otherwise): that
/// plus half again for bursts, at least 2. When the sizes do not fit, only the burst allowances shrink:
/// a pool smaller than the observed peak would make the application queue at its busiest, so a size
/// never goes below it (the finding says when the peaks alone do not fit).
pub fn pool_budget(
    sessions: &[Session],
    peaks: Option<&[PoolDemand]>,
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
    // An application seen working in the samples but gone at the snapshot still needs its pool.
    for d in peaks.unwrap_or_default() {
        apps.entry(d.application.clone()).or_insert((0, 0));
    }
    let budget =
        ((f64::from(usable.max(0)) * (1.0 - headroom_percent / 100.0)).floor() as usize).max(1);
    let peak_of = |app: &str| -> Option<usize> {
        peaks.map(|p| {
            p.iter()
                .find(|d| d.application == app)
                .map_or(0, |d| d.working_peak)
        })
    };
    let mut rows: Vec<PoolBudget> = apps
        .into_iter()
        .map(|(application, (held, in_use))| {
            let working_peak = peak_of(&application);
            let demand = working_peak.unwrap_or(in_use);
            PoolBudget {
                application,
                held,
                in_use,
                working_peak,
                // What works at the peak (or now) plus half again for bursts, at least 2.
                suggested: (demand + demand.div_ceil(2)).max(2),
            }
        })
        .collect();
    let total: usize = rows.iter().map(|r| r.suggested).sum();
    if total > budget {
        // The floor of each: its peak (or what is in use now), at least 1; the rest shrinks together.
        let floor = |r: &PoolBudget| r.working_peak.unwrap_or(r.in_use).max(1);
        let floors: usize = rows.iter().map(floor).sum();
        let extras: usize = total.saturating_sub(floors);
        let room = budget.saturating_sub(floors);
        for r in &mut rows {
            let f = floor(r);
            let extra = r.suggested - f.min(r.suggested);
            r.suggested = f + (extra * room).checked_div(extras).unwrap_or(0);
        }
    }
    rows.sort_by(|a, b| {
        b.held
            .cmp(&a.held)
            .then_with(|| a.application.cmp(&b.application))
    });
    (rows, budget)
}

/// The samples of one application as an evidence line: "working sessions over 10 samples: 2 3 12 4 …,
/// peak 12".
fn samples_line(d: &PoolDemand) -> String {
    const SHOWN: usize = 20;
    let mut shown: Vec<String> = d
        .working
        .iter()
        .take(SHOWN)
        .map(|n| n.to_string())
        .collect();
    if d.working.len() > SHOWN {
        shown.push("…".into());
    }
    let mut line = format!(
        "{}: working sessions over {} samples: {}, peak {}",
        app_name(&d.application),
        d.working.len(),
        shown.join(" "),
        d.working_peak
    );
    if d.lock_waiters_peak > 0 {
        line.push_str(&format!(
            " (up to {} waiting on a lock, not counted: a larger pool would only add waiters)",
            d.lock_waiters_peak
        ));
    }
    line
}

fn app_name(a: &str) -> &str {
    if a.is_empty() {
        "(no application_name)"
    } else {
        a
    }
}

/// A managed platform's pooler and the server connections it may open, as far as the provider documents
/// it: `size` is per user and database (`per_pair`) or for the whole proxy; None where no number is known.
/// `source` names where the number comes from and whether it is documented or unverified (README "Managed
/// platforms"); the pooler's own setting is never readable from the server, so a changed size is not seen.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderPool {
    pub pooler: &'static str,
    pub size: Option<i64>,
    pub per_pair: bool,
    pub source: String,
}

pub fn provider_pool(p: Platform, max_connections: i32) -> ProviderPool {
    let max = i64::from(max_connections.max(0));
    match p {
        Platform::AzureFlexible => ProviderPool {
            pooler: "Azure's built-in PgBouncer",
            size: Some(50),
            per_pair: true,
            source: "Azure's built-in PgBouncer: pgbouncer.default_pool_size, 50 server connections per user \
                     and database by default (documented: learn.microsoft.com, concepts-pgbouncer; a changed \
                     value is not readable from the server)"
                .into(),
        },
        Platform::Neon => ProviderPool {
            pooler: "Neon's -pooler host",
            size: Some(max * 9 / 10),
            per_pair: true,
            source: format!(
                "Neon's -pooler host: 90% of max_connections ({max}), {} server connections per user and \
                 database (documented: Neon's connection pooling guide)",
                max * 9 / 10
            ),
        },
        Platform::Supabase => ProviderPool {
            pooler: "Supavisor",
            size: None,
            per_pair: true,
            source: "Supavisor: one pool size (the project's setting, not readable from the server) shared \
                     with PgBouncer, so up to twice that many server connections when both are used \
                     (documented: Supabase's connection guide)"
                .into(),
        },
        Platform::AwsRds | Platform::AwsAurora => ProviderPool {
            pooler: "RDS Proxy",
            size: Some(max),
            per_pair: false,
            source: format!(
                "RDS Proxy: MaxConnectionsPercent of max_connections ({max}), 100% by default: up to {max} \
                 server connections for the whole proxy (documented: AWS, RDS Proxy configuration; the \
                 proxy's own setting is not readable from the server)"
            ),
        },
        Platform::CloudSql => ProviderPool {
            pooler: "Cloud SQL managed connection pooling",
            size: None,
            per_pair: true,
            source: "Cloud SQL managed connection pooling: pool size unverified (pgconn knows no number)"
                .into(),
        },
    }
}

/// The evidence lines of the provider's pooler on a managed platform: its pool size and where the number
/// comes from, and, when the pools of the user/database pairs seen could open more server connections
/// than the budget, by how much and what lowers it.
fn provider_pool_lines(i: &Inputs, budget: usize) -> Vec<String> {
    let Some(p) = i.status.platform.managed() else {
        return Vec::new();
    };
    let pool = provider_pool(p, i.status.capacity.max_connections);
    let mut lines = vec![format!("through the provider's pooler: {}", pool.source)];
    let Some(size) = pool.size else {
        return lines;
    };
    let pairs: std::collections::BTreeSet<(Option<&str>, Option<&str>)> = i
        .sessions
        .iter()
        .filter(|s| !s.via_pgbouncer && s.visible)
        .map(|s| (s.user.as_deref(), s.database.as_deref()))
        .collect();
    let (open, of) = if pool.per_pair {
        let n = pairs.len().max(1);
        (
            size.saturating_mul(n as i64),
            format!(
                "the {n} user/database pair{} seen, {size} each,",
                if n == 1 { "" } else { "s" }
            ),
        )
    } else {
        (size, "the proxy".to_string())
    };
    if open > budget as i64 {
        let lower = match p {
            Platform::AzureFlexible => format!(
                "lower pgbouncer.default_pool_size to {} or less",
                (budget / pairs.len().max(1)).max(1)
            ),
            Platform::AwsRds | Platform::AwsAurora => format!(
                "lower the proxy's MaxConnectionsPercent to {}% or less",
                (budget as i64 * 100 / i64::from(i.status.capacity.max_connections.max(1))).max(1)
            ),
            _ => {
                "the pooler's size is fixed by the provider: keep direct connections and the pools \
                  within the rest"
                    .to_string()
            }
        };
        lines.push(format!(
            "through {}, {of} could open up to {open} server connections, more than the {budget} slots \
             of the budget: {lower}",
            pool.pooler
        ));
    }
    lines
}

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let args = &i.request;
    let peaks = i.sampling.as_ref().map(|s| s.applications.as_slice());
    let (rows, budget) = pool_budget(
        &i.sessions,
        peaks,
        i.status.capacity.usable_slots,
        args.headroom,
    );
    if rows.is_empty() {
        return Vec::new();
    }
    let held: usize = rows.iter().map(|r| r.held).sum();
    let suggested: usize = rows.iter().map(|r| r.suggested).sum();
    let peak_total: usize = rows.iter().filter_map(|r| r.working_peak).sum();
    let mut evidence: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut line = format!(
                "{:<24} holds {:>4}, in use {:>4}",
                app_name(&r.application),
                r.held,
                r.in_use,
            );
            if let Some(p) = r.working_peak {
                line.push_str(&format!(", working peak {p:>4}"));
            }
            line.push_str(&format!(" -> pool size {}", r.suggested));
            line
        })
        .collect();
    if let Some(s) = &i.sampling {
        evidence.extend(
            rows.iter()
                .filter_map(|r| {
                    s.applications
                        .iter()
                        .find(|d| d.application == r.application)
                })
                .map(samples_line),
        );
        if peak_total > budget {
            evidence.push(format!(
                "the working peaks alone ({peak_total}) exceed the {budget} slots: no pool sizes fit; a pooler \
                 in front (pgbouncer_recommended) or more slots"
            ));
        }
    }
    evidence.extend(provider_pool_lines(i, budget));
    let basis = match &i.sampling {
        Some(s) => format!(
            "sized from each application's peak of working sessions over {} samples ({}): active, or idle in \
             transaction for less than {} s, not waiting on a lock",
            s.samples,
            if s.source == "server" { "read by advise".to_string() } else { s.source.clone() },
            s.idle_in_transaction_seconds
        ),
        None => "sized from the sessions in use at one instant: --samples 0, not sampled".into(),
    };
    vec![Finding {
        id: "pool_budget".into(),
        severity: if held > budget || peak_total > budget { Severity::Warning } else { Severity::Info },
        title: format!(
            "pool budget: applications hold {held} connections; pool sizes totalling {suggested} fit into {budget} slots ({:.0}% headroom)",
            args.headroom
        ),
        evidence,
        why: format!(
            "the sum of every application's pool size (times its processes) must fit into the slots ordinary \
             roles can use, with headroom for deploys (old and new instances connect at once) and admins; \
             a pool below an application's working peak makes it queue at its busiest ({basis})"
        ),
        recommendation: "set each application's pool size to its suggestion (per process: divide by the number \
                         of processes or replicas): Prisma: connection_limit=N in the connection URL; node-postgres \
                         / TypeORM: max: N (TypeORM: extra: { max: N }); PHP-FPM with persistent connections: \
                         pm.max_children = N across its pools; other pools: pool size / maximum connections N"
            .into(),
        commands: vec![],
        config: None,
        rank: 8,
    }]
}
