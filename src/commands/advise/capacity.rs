//! Capacity: how full the slots are, and whether an administrator can still get in when they are full.

use super::Inputs;
use crate::report::advise::{Finding, Severity};
use crate::report::Level;

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let (c, facts, prefix) = (&i.status.capacity, &i.facts, &i.prefix);
    let mut out = Vec::new();
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
    out
}
