//! The pool budget: a pool size per application that, summed, fits into the slots ordinary roles can use
//! with the requested headroom.

use std::collections::BTreeMap;

use super::Inputs;
use crate::report::advise::{Finding, PoolBudget, Severity};
use crate::report::{Session, State};

/// Each application's sessions, those in use, and a pool size for it (what is in use plus half again, at
/// least 2; scaled down together to fit); and the slots they must fit into: `usable` less the headroom.
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

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let args = &i.request;
    let (rows, budget) = pool_budget(&i.sessions, i.status.capacity.usable_slots, args.headroom);
    if rows.is_empty() {
        return Vec::new();
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
    vec![Finding {
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
    }]
}
