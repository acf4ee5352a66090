//! The rules PostgreSQL checks when it starts, applied before a `--system` change of a restart-only
//! setting is written: a value ALTER SYSTEM accepts can still stop the server from starting again. Each
//! rule is checked over the values the server will read at its next start — this command's own values,
//! values already written but pending a restart (the configuration files as pg_file_settings reads them
//! now), then the server's command line, then the built-in default — not over the running ones.
//!
//! - The reserved slots: `superuser_reserved_connections` (+ `reserved_connections` on 16+) must be less
//!   than `max_connections`.
//! - The number of server processes (`InitializeMaxBackends`, limit `MAX_BACKENDS` = 262143):
//!   - 14–16: `max_connections + autovacuum_max_workers + 1 + max_worker_processes + max_wal_senders`
//!     ("too many backends configured"; the 1 is the autovacuum launcher);
//!   - 17: the same with `+ 2` (the autovacuum launcher and the slot sync worker), same words; 17's own
//!     check of a new value still counts 1, so ALTER SYSTEM accepts one value the next start refuses;
//!   - 18+: `max_connections + autovacuum_worker_slots + max_worker_processes + max_wal_senders + 2`
//!     ("too many server processes configured"); ALTER SYSTEM checks none of it.

use super::catalog::{Catalog, FileEntry};
use super::plan::Desired;
use crate::setting;

/// PostgreSQL's MAX_BACKENDS (2^18 − 1): the most server processes any configuration may count.
pub const MAX_BACKENDS: f64 = 262_143.0;

/// The settings the rules read; a change of any of them is checked.
const RULE_SETTINGS: &[&str] = &[
    "max_connections",
    "superuser_reserved_connections",
    "reserved_connections",
    "autovacuum_max_workers",
    "autovacuum_worker_slots",
    "max_worker_processes",
    "max_wal_senders",
];

/// One setting's value at the next start, and where it comes from when that is not the running value
/// nor this command.
struct Next {
    value: f64,
    pending: Option<String>,
}

/// The values the server will read at its next start.
struct NextStart<'a> {
    cat: &'a Catalog,
    files: &'a [FileEntry],
    desired: &'a [Desired],
}

impl NextStart<'_> {
    /// None when the setting does not exist here or its value cannot be read as a number.
    fn get(&self, name: &str) -> Option<Next> {
        let setting = self.cat.get(name)?;
        let meta = setting.meta();
        let number = |v: &str| setting::base_of(&meta, v);
        let desired = self.desired.iter().find(|d| d.name == name);
        if let Some(Some(v)) = desired.map(|d| &d.new) {
            return Some(Next {
                value: number(v)?,
                pending: None,
            });
        }
        // A server command-line option (postgres -c) beats every configuration file, and a restart
        // normally keeps the command line.
        if setting.source == "command line" {
            return Some(Next {
                value: number(&setting.setting)?,
                pending: None,
            });
        }
        // The last entry of the files is what the next start reads, applied or not (a restart-only
        // setting changed in a file shows as "could not be applied" until then). A reset removes the
        // postgresql.auto.conf entry, uncovering the other files' entry or the default.
        let resets = desired.is_some();
        let entry = FileEntry::last(self.files, name, |e| !(resets && e.auto_conf));
        let (text, file) = match entry {
            Some(e) => (e.setting.clone().unwrap_or_default(), Some(e.file_name())),
            None => (setting.boot_val.clone()?, None),
        };
        let value = number(&text)?;
        let running = number(&setting.setting);
        let pending = (!resets && running != Some(value)).then(|| match file {
            Some(f) => format!("set in {f}, not in effect until the restart"),
            None => "the default once the server restarts".to_string(),
        });
        Some(Next { value, pending })
    }
}

/// `max_wal_senders 20 (set in postgresql.auto.conf, not in effect until the restart)`.
fn term(name: &str, n: &Next) -> String {
    match &n.pending {
        Some(p) => format!("{name} {} ({p})", n.value),
        None => format!("{name} {}", n.value),
    }
}

/// Every start rule the planned values would break, as refusals; empty when the server will start (or
/// when the plan touches none of the rules' settings).
pub fn check(
    cat: &Catalog,
    files: &[FileEntry],
    desired: &[Desired],
    version_num: i32,
) -> Vec<String> {
    if !desired
        .iter()
        .any(|d| RULE_SETTINGS.contains(&d.name.as_str()))
    {
        return Vec::new();
    }
    let next = NextStart {
        cat,
        files,
        desired,
    };
    let mut out = Vec::new();
    out.extend(reserved_rule(&next));
    out.extend(backends_rule(&next, version_num));
    out
}

/// superuser_reserved_connections (+ reserved_connections) < max_connections.
fn reserved_rule(next: &NextStart) -> Option<String> {
    let max = next.get("max_connections")?;
    let su = next.get("superuser_reserved_connections")?;
    let res = next.get("reserved_connections");
    let reserved = su.value + res.as_ref().map_or(0.0, |r| r.value);
    (reserved >= max.value).then(|| {
        format!(
            "{} must be larger than {}{}: PostgreSQL would refuse to start after the restart",
            term("max_connections", &max),
            term("superuser_reserved_connections", &su),
            match &res {
                Some(r) => format!(" + {}", term("reserved_connections", r)),
                None => String::new(),
            }
        )
    })
}

/// The server-process count of InitializeMaxBackends, per major, within MAX_BACKENDS.
fn backends_rule(next: &NextStart, version_num: i32) -> Option<String> {
    let (autovacuum, special, words) = if version_num >= 180000 {
        (
            "autovacuum_worker_slots",
            2.0,
            "too many server processes configured",
        )
    } else if version_num >= 170000 {
        (
            "autovacuum_max_workers",
            2.0,
            "too many backends configured",
        )
    } else {
        (
            "autovacuum_max_workers",
            1.0,
            "too many backends configured",
        )
    };
    let max = next.get("max_connections")?;
    let av = next.get(autovacuum)?;
    let workers = next.get("max_worker_processes")?;
    let senders = next.get("max_wal_senders")?;
    let others = av.value + special + workers.value + senders.value;
    let total = max.value + others;
    (total > MAX_BACKENDS).then(|| {
        // In the order of the server's own sum (its message on 18 names it so).
        let mut terms = vec![term("max_connections", &max), term(autovacuum, &av)];
        if version_num < 180000 {
            terms.push(special.to_string());
        }
        terms.push(term("max_worker_processes", &workers));
        terms.push(term("max_wal_senders", &senders));
        if version_num >= 180000 {
            terms.push(special.to_string());
        }
        let limit = MAX_BACKENDS - others;
        let room = if limit >= 1.0 {
            format!("; with the others as they are, max_connections can be at most {limit}")
        } else {
            String::new()
        };
        format!(
            "{} = {total} is more than {MAX_BACKENDS}: PostgreSQL would refuse to start after the \
             restart (\"{words}\"){room}",
            terms.join(" + ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::tune::catalog::Setting;
    use crate::setting::VarType;

    fn cat(extra: &[(&str, &str)]) -> Catalog {
        let mut c = Catalog::default();
        let mut values = vec![
            ("max_connections", "100"),
            ("superuser_reserved_connections", "3"),
            ("autovacuum_max_workers", "3"),
            ("max_worker_processes", "8"),
            ("max_wal_senders", "10"),
        ];
        values.extend_from_slice(extra);
        for (name, v) in values {
            let s = Setting {
                name: name.into(),
                setting: v.into(),
                unit: None,
                vartype: VarType::Integer,
                context: "postmaster".into(),
                source: "default".into(),
                sourcefile: None,
                sourceline: None,
                min: Some(0.0),
                max: Some(MAX_BACKENDS),
                enumvals: vec![],
                boot_val: Some(v.into()),
                pending_restart: false,
            };
            c.settings.insert(s.name.clone(), s);
        }
        c
    }

    fn set(pairs: &[(&str, &str)]) -> Vec<Desired> {
        pairs
            .iter()
            .map(|(n, v)| Desired {
                name: n.to_string(),
                input: Some(v.to_string()),
                new: Some(v.to_string()),
            })
            .collect()
    }

    fn auto_conf(name: &str, v: &str) -> FileEntry {
        FileEntry {
            sourcefile: "/data/postgresql.auto.conf".into(),
            sourceline: Some(3),
            name: name.into(),
            setting: Some(v.into()),
            applied: false,
            error: Some("setting could not be applied".into()),
            auto_conf: true,
        }
    }

    #[test]
    fn the_boundary_of_each_major() {
        // 3 + 1 + 8 + 10 beside max_connections on 14-16, 3 + 2 + 8 + 10 on 17, 16 + 8 + 10 + 2 on 18.
        let old = cat(&[]);
        assert!(check(&old, &[], &set(&[("max_connections", "262121")]), 150018).is_empty());
        let e = check(&old, &[], &set(&[("max_connections", "262122")]), 150018);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("\"too many backends configured\""), "{e:?}");
        assert!(e[0].contains("+ 1 +") && e[0].contains("= 262144"), "{e:?}");
        assert!(e[0].contains("at most 262121"), "{e:?}");

        assert!(check(&old, &[], &set(&[("max_connections", "262120")]), 170010).is_empty());
        let e = check(&old, &[], &set(&[("max_connections", "262121")]), 170010);
        assert!(
            e[0].contains("autovacuum_max_workers 3 + 2 +") && e[0].contains("backends"),
            "{e:?}"
        );

        let new = cat(&[("autovacuum_worker_slots", "16")]);
        assert!(check(&new, &[], &set(&[("max_connections", "262107")]), 180004).is_empty());
        let e = check(&new, &[], &set(&[("max_connections", "262108")]), 180004);
        assert!(
            e[0].contains("\"too many server processes configured\"")
                && e[0].contains("autovacuum_worker_slots 16 + max_worker_processes 8")
                && e[0].contains("max_wal_senders 10 + 2 = 262144"),
            "{e:?}"
        );
        // autovacuum_max_workers no longer counts on 18.
        assert!(check(
            &new,
            &[],
            &set(&[
                ("max_connections", "262107"),
                ("autovacuum_max_workers", "10")
            ]),
            180004
        )
        .is_empty());
    }

    #[test]
    fn pending_values_and_the_same_command_count() {
        let c = cat(&[]);
        // max_wal_senders 20 waits in postgresql.auto.conf for the restart.
        let files = [auto_conf("max_wal_senders", "20")];
        let e = check(&c, &files, &set(&[("max_connections", "262121")]), 150018);
        assert!(
            e[0].contains(
                "max_wal_senders 20 (set in postgresql.auto.conf, not in effect until the restart)"
            ),
            "{e:?}"
        );
        assert!(check(&c, &files, &set(&[("max_connections", "262111")]), 150018).is_empty());
        // Changed in the same command.
        assert!(!check(
            &c,
            &[],
            &set(&[("max_connections", "262121"), ("max_worker_processes", "9")]),
            150018
        )
        .is_empty());
        // Setting one of the others against a pending max_connections.
        let files = [auto_conf("max_connections", "262121")];
        let e = check(&c, &files, &set(&[("max_worker_processes", "9")]), 150018);
        assert_eq!(e.len(), 1, "{e:?}");
        // A reset falls back to what lies beneath postgresql.auto.conf (here: the default).
        let reset = vec![Desired {
            name: "max_wal_senders".into(),
            input: None,
            new: None,
        }];
        let files = [
            auto_conf("max_connections", "262121"),
            auto_conf("max_wal_senders", "5"),
        ];
        assert!(check(&c, &files, &reset, 150018).is_empty());
        let files = [
            auto_conf("max_connections", "262125"),
            auto_conf("max_wal_senders", "5"),
        ];
        assert!(!check(&c, &files, &reset, 150018).is_empty());
        // Untouched rules are not checked.
        assert!(check(&c, &files, &set(&[("statement_timeout", "5s")]), 150018).is_empty());
    }

    #[test]
    fn max_connections_stays_above_the_reserved_slots() {
        let c = cat(&[]);
        let e = check(&c, &[], &set(&[("max_connections", "3")]), 150018);
        assert!(e[0].contains("refuse to start"), "{e:?}");
        assert!(check(&c, &[], &set(&[("max_connections", "4")]), 150018).is_empty());
        let files = [auto_conf("superuser_reserved_connections", "10")];
        let e = check(&c, &files, &set(&[("max_connections", "10")]), 150018);
        assert!(
            e[0].contains("superuser_reserved_connections 10 (set in"),
            "{e:?}"
        );
        let c16 = cat(&[("reserved_connections", "5")]);
        let e = check(&c16, &[], &set(&[("max_connections", "8")]), 160000);
        assert!(e[0].contains("+ reserved_connections 5"), "{e:?}");
    }
}
