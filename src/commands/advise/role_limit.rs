//! A cap on a leaking role: for a leak suspect whose role has no CONNECTION LIMIT, the limit that leaves
//! every other role's observed sessions plus the headroom free, with the `tune set` command that sets it.
//! A role's limit is what stops one application from starving all others while its leak is being fixed
//! (killing idle sessions buys minutes; the leak comes straight back).

use std::collections::{BTreeMap, BTreeSet};

use super::Inputs;
use crate::report::advise::{Finding, Severity};
use crate::report::{shell_quote, sql_name, State};

/// The slots `headroom_percent` of `usable` keeps free (rounded up).
fn headroom_slots(usable: i32, headroom_percent: f64) -> usize {
    (f64::from(usable.max(0)) * headroom_percent / 100.0).ceil() as usize
}

/// The cap for a role: `usable − others − headroom`, never below its non-idle sessions + 2 (what it is
/// doing right now, plus room to connect).
pub(super) fn cap(usable: i32, others: usize, headroom_percent: f64, non_idle: usize) -> usize {
    usize::try_from(usable.max(0))
        .unwrap_or(0)
        .saturating_sub(others)
        .saturating_sub(headroom_slots(usable, headroom_percent))
        .max(non_idle + 2)
}

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let st = &i.status;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for l in &st.leak_suspects {
        let Some(role) = l.user.as_deref() else {
            continue;
        };
        // One finding per role, however many of its applications leak; none when it has a limit already
        // (status judges it). For a superuser the limit would not apply: `tune set` says so before it asks.
        if !seen.insert(role.to_string()) || st.limits.roles.iter().any(|r| r.user == role) {
            continue;
        }
        let mine: Vec<_> = i
            .sessions
            .iter()
            .filter(|s| s.user.as_deref() == Some(role))
            .collect();
        let held = mine.len();
        let non_idle = mine
            .iter()
            .filter(|s| s.state.as_ref().is_some_and(|st| *st != State::Idle))
            .count();
        let mut apps: BTreeMap<String, usize> = BTreeMap::new();
        for s in &mine {
            *apps.entry(s.application.clone()).or_default() += 1;
        }
        // Other roles' sessions: every client backend in use but this role's (pgconn's own included).
        let used = usize::try_from(st.capacity.used.max(0)).unwrap_or(0);
        let others = used.saturating_sub(held);
        let usable = st.capacity.usable_slots;
        let headroom = i.request.headroom;
        let n = cap(usable, others, headroom, non_idle);
        let name = |a: &str| {
            if a.is_empty() {
                "(no application_name)".to_string()
            } else {
                format!("\"{a}\"")
            }
        };
        let slots = headroom_slots(usable, headroom);
        let raw = i64::from(usable) - others as i64 - slots as i64;
        let raised = if n as i64 > raw {
            format!(", raised to {n}: its non-idle sessions + 2")
        } else {
            String::new()
        };
        let mut evidence = vec![
            format!(
                "role {} has no CONNECTION LIMIT and holds {held} session(s), {non_idle} of them not idle",
                sql_name(role)
            ),
            format!(
                "cap = {usable} usable slots − {others} session(s) of other roles − {headroom:.0}% headroom \
                 ({slots} slots) = {raw}{raised}"
            ),
        ];
        let mut recommendation = format!(
            "cap the role at {n} connections: its leak then refuses its own new sessions (\"too many \
             connections for role\") instead of starving every other role; the sessions it holds now are \
             not ended, and `tune undo` removes the cap"
        );
        if held > n {
            recommendation.push_str(&format!(
                ". It holds {held} now: until its idle sessions are terminated (the leak finding's \
                 kill-idle) every new session of it is refused"
            ));
        }
        if apps.len() > 1 {
            let list: Vec<String> = apps
                .iter()
                .map(|(a, k)| format!("{} ({k})", name(a)))
                .collect();
            evidence.push(format!(
                "applications sharing the role: {}",
                list.join(", ")
            ));
            recommendation.push_str(&format!(
                ". The cap applies to every application of role {} together: {}",
                sql_name(role),
                apps.keys().map(|a| name(a)).collect::<Vec<_>>().join(", ")
            ));
        }
        out.push(Finding {
            id: "role_connection_limit".into(),
            severity: Severity::Info,
            title: format!(
                "cap role {} at {n} connections while its leak is fixed",
                sql_name(role)
            ),
            evidence,
            why: "killing idle sessions buys minutes and the leak comes straight back; a CONNECTION LIMIT on \
                  the leaking role keeps the rest of the server usable for everyone else"
                .into(),
            recommendation,
            commands: vec![format!(
                "{} tune set --role {} connection_limit={n}",
                i.prefix,
                shell_quote(role)
            )],
            config: None,
            rank: 2,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_the_others_and_the_headroom_free_but_never_starves_the_role() {
        // 97 usable, 30 sessions of other roles, 20 % headroom (20 slots): 47.
        assert_eq!(cap(97, 30, 20.0, 3), 47);
        // No room left: its non-idle sessions + 2.
        assert_eq!(cap(97, 90, 20.0, 3), 5);
        assert_eq!(cap(0, 0, 20.0, 0), 2);
        // 57 usable, 20 % is 11.4: 12 slots kept free.
        assert_eq!(cap(57, 1, 20.0, 1), 44);
    }
}
