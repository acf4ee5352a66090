//! Timeouts that are off for the databases and roles holding sessions now: the guard rails the server
//! could apply itself.

use std::collections::BTreeMap;

use super::Inputs;
use crate::report::advise::{Finding, Severity};
use crate::report::shell_quote;
use crate::setting::{self, Meta, VarType};

/// Whether a timeout's value (in the setting's `unit`, or with a unit of its own) means "off": empty, or
/// zero as PostgreSQL reads it.
pub(super) fn is_off(value: &str, unit: Option<&str>) -> bool {
    let meta = Meta {
        name: String::new(),
        vartype: VarType::Integer,
        unit: unit.map(String::from),
        min: None,
        max: None,
        enumvals: Vec::new(),
    };
    value.trim().is_empty() || setting::base_of(&meta, value) == Some(0.0)
}

pub(super) fn findings(i: &Inputs) -> Vec<Finding> {
    let (sessions, settings, overrides, prefix) =
        (&i.sessions, &i.settings, &i.overrides, &i.prefix);
    let mut out = Vec::new();
    // (database, role) pairs that hold sessions now.
    let mut pairs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.via_pgbouncer) {
        if let (Some(d), Some(u)) = (&s.database, &s.user) {
            let roles = pairs.entry(d.clone()).or_default();
            if !roles.contains(u) {
                roles.push(u.clone());
            }
        }
    }
    let effective = |name: &str, db: &str, role: &str| -> Option<String> {
        let find = |d: Option<&str>, r: Option<&str>| {
            overrides
                .iter()
                .find(|o| o.name == name && o.database.as_deref() == d && o.role.as_deref() == r)
                .map(|o| o.value.clone())
        };
        find(Some(db), Some(role))
            .or_else(|| find(None, Some(role)))
            .or_else(|| find(Some(db), None))
            .or_else(|| find(None, None))
            .or_else(|| {
                settings
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| s.server_value.clone())
            })
    };
    for (name, severity, value, rank, why, caveat) in [
        (
            "idle_in_transaction_session_timeout",
            Severity::Warning,
            "5min",
            5,
            "a session left idle in a transaction holds locks and a connection, and blocks vacuum, until somebody \
             notices",
            "safe for nearly every application: no correct application sits in an open transaction for minutes",
        ),
        (
            "statement_timeout",
            Severity::Info,
            "30s",
            6,
            "a runaway query holds its connection (and a pool slot) for as long as it runs",
            "set it for the application's database or role, not server-wide: migrations, reports and batch jobs \
             need longer (give their roles their own value)",
        ),
        (
            "idle_session_timeout",
            Severity::Info,
            "10min",
            7,
            "sessions idle for hours are usually leaks; the server can close them itself (PostgreSQL 14+)",
            "do NOT set it where a connection pool keeps idle connections on purpose (application pools, \
             PgBouncer's server connections): they would see dropped connections. Set it for roles that connect \
             directly, or let the pooler close idle server connections (server_idle_timeout)",
        ),
    ] {
        if !settings.iter().any(|s| s.name == name) {
            continue; // not on this server version
        }
        let unit = settings.iter().find(|s| s.name == name).and_then(|s| s.unit.clone());
        let off = |v: &str| is_off(v, unit.as_deref());
        let unset: Vec<&String> = pairs
            .iter()
            .filter(|(db, roles)| roles.iter().any(|r| effective(name, db, r).as_deref().is_none_or(off)))
            .map(|(db, _)| db)
            .collect();
        if unset.is_empty() {
            continue;
        }
        let unit = unit.unwrap_or_default();
        out.push(Finding {
            id: format!("timeout_unset_{name}"),
            severity,
            title: format!(
                "{name} is off for database{} {}",
                if unset.len() == 1 { "" } else { "s" },
                unset.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ),
            evidence: vec![format!(
                "{name} = 0{} (off) at every scope that applies to the sessions there: server, database and role",
                if unit.is_empty() { String::new() } else { format!(" {unit}") }
            )],
            why: why.into(),
            recommendation: format!("set {name} = {value} per database ({caveat})"),
            commands: unset
                .iter()
                .map(|d| format!("{prefix} tune set {name}={value} --database {}", shell_quote(d)))
                .collect(),
            config: None,
            rank,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_off() {
        let ms = Some("ms");
        assert!(is_off("0", ms));
        assert!(is_off("0ms", ms));
        assert!(is_off("0min", ms));
        assert!(is_off("", ms));
        assert!(!is_off("5min", ms));
        assert!(!is_off("300000", ms));
        assert!(!is_off("1ms", ms));
    }
}
