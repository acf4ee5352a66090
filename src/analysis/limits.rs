//! Connection limits per role and per database (`rolconnlimit`, `datconnlimit`), judged once for
//! status, check, watch and advise: each limit's level and the verdict's reasons.
//!
//! The server refuses a new session of a role (or in a database) once the role already has `limit`
//! client backends; superusers are exempt (from both), so a superuser role is shown but never at its
//! limit. Sessions above a lowered limit are not ended. A database's `datconnlimit = -2` is no limit: an
//! interrupted DROP DATABASE left the database invalid.

use crate::report::status::{DatabaseLimit, LimitRow, LimitRows, Limits, RoleLimit};
use crate::report::{shell_quote, sql_name, Level};

/// datconnlimit of a database an interrupted DROP DATABASE left invalid (PostgreSQL's
/// DATCONNLIMIT_INVALID_DB).
pub const INVALID_DATABASE: i32 = -2;

/// The level of `sessions` against a `limit` (-1: none): CRITICAL at the limit, WARNING at 90 % of it or
/// with one slot left, whichever comes first (a limit of 5 warns at 4: 90 % of a small limit is the
/// limit itself). A limit of 0 is CRITICAL only when sessions hold it (with none it is a deliberate
/// "no connections").
pub fn level(limit: i32, sessions: usize) -> Level {
    let Ok(limit) = usize::try_from(limit) else {
        return Level::Ok;
    };
    if limit == 0 {
        return if sessions > 0 {
            Level::Critical
        } else {
            Level::Ok
        };
    }
    if sessions >= limit {
        return Level::Critical;
    }
    let ninety = (limit * 9).div_ceil(10);
    let warn_at = ninety.min(limit - 1).max(1);
    if sessions >= warn_at {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// What [`judge`] makes of the statement's rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judged {
    /// With the verdict's reasons, each with its level.
    pub limits: Limits,
    /// Invalid databases.
    pub warnings: Vec<String>,
}

fn application(a: &Option<String>, n: usize) -> String {
    match a.as_deref() {
        None => String::new(),
        Some("") => format!("; largest application (no application_name) holds {n}"),
        Some(a) => format!("; largest application \"{a}\" holds {n}"),
    }
}

/// The roles and databases with a limit (the rows without one are left out: with `$all_limits` the
/// statement reads every one), their levels, and the verdict's reasons.
pub fn judge(rows: &LimitRows) -> Judged {
    let mut j = Judged::default();
    for r in rows.roles.iter().filter(|r| r.limit >= 0) {
        let status = if r.superuser {
            Level::Ok
        } else {
            level(r.limit, r.sessions)
        };
        if let Some(reason) = reason(
            "role",
            r,
            status,
            &format!(
                "pgconn tune set --role {} connection_limit=-1",
                shell_quote(&r.name)
            ),
        ) {
            j.limits.reasons.push((status, reason));
        }
        j.limits.roles.push(RoleLimit {
            user: r.name.clone(),
            limit: r.limit,
            sessions: r.sessions,
            superuser: r.superuser,
            largest_application: r.largest_application.clone(),
            largest_application_sessions: r.largest_application_sessions,
            status,
        });
    }
    for d in rows.databases.iter().filter(|d| d.limit != -1) {
        let invalid = d.limit == INVALID_DATABASE;
        let status = if invalid {
            Level::Ok
        } else {
            level(d.limit, d.sessions)
        };
        if invalid {
            j.warnings.push(format!(
                "database {} is invalid (datconnlimit -2: an interrupted DROP DATABASE left it); it accepts \
                 no connection, and DROP DATABASE {} removes it",
                sql_name(&d.name),
                sql_name(&d.name)
            ));
        } else if let Some(reason) = reason(
            "database",
            d,
            status,
            &format!(
                "pgconn tune set --database {} connection_limit=DEFAULT",
                shell_quote(&d.name)
            ),
        ) {
            j.limits.reasons.push((status, reason));
        }
        j.limits.databases.push(DatabaseLimit {
            database: d.name.clone(),
            limit: (!invalid).then_some(d.limit),
            invalid,
            sessions: d.sessions,
            largest_application: d.largest_application.clone(),
            largest_application_sessions: d.largest_application_sessions,
            status,
        });
    }
    j
}

/// The verdict's reason for one limit at `status`, if any; `lift` is the command that removes the limit
/// (named when the limit is 0).
fn reason(kind: &str, r: &LimitRow, status: Level, lift: &str) -> Option<String> {
    let name = sql_name(&r.name);
    let app = application(&r.largest_application, r.largest_application_sessions);
    let (whose, refused) = if kind == "role" {
        (
            format!("new sessions of role {name} are refused"),
            "each new session of it is refused (\"too many connections for role\")",
        )
    } else {
        (
            format!("new sessions in database {name} are refused but superusers'"),
            "each new session in it but a superuser's is refused (\"too many connections for database\")",
        )
    };
    match status {
        Level::Critical if r.limit == 0 => Some(format!(
            "{kind} {name} has CONNECTION LIMIT 0 and holds {} session(s): {refused}; to lift the \
             limit: {lift}",
            r.sessions
        )),
        Level::Critical => Some(format!(
            "{kind} {name} is at its connection limit: {} of {} sessions (CONNECTION LIMIT {}); {whose}{app}",
            r.sessions, r.limit, r.limit
        )),
        Level::Warning => Some(format!(
            "{kind} {name} holds {} of the {} sessions its CONNECTION LIMIT allows{app}",
            r.sessions, r.limit
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_limit() {
        assert_eq!(level(-1, 500), Level::Ok);
        assert_eq!(level(0, 0), Level::Ok);
        assert_eq!(level(0, 1), Level::Critical);
        assert_eq!(level(1, 0), Level::Ok);
        assert_eq!(level(1, 1), Level::Critical);
        assert_eq!(level(2, 1), Level::Warning);
        assert_eq!(level(5, 3), Level::Ok);
        assert_eq!(level(5, 4), Level::Warning);
        assert_eq!(level(5, 5), Level::Critical);
        assert_eq!(level(5, 7), Level::Critical);
        assert_eq!(level(100, 89), Level::Ok);
        assert_eq!(level(100, 90), Level::Warning);
        assert_eq!(level(100, 99), Level::Warning);
        assert_eq!(level(100, 100), Level::Critical);
        assert_eq!(level(1000, 899), Level::Ok);
        assert_eq!(level(1000, 900), Level::Warning);
    }

    fn row(name: &str, limit: i32, sessions: usize, superuser: bool) -> LimitRow {
        LimitRow {
            name: name.into(),
            limit,
            superuser,
            sessions,
            largest_application: (sessions > 0).then(|| "web".into()),
            largest_application_sessions: sessions,
        }
    }

    #[test]
    fn superusers_are_shown_never_at_their_limit_and_invalid_databases_are_no_limit() {
        let j = judge(&LimitRows {
            roles: vec![
                row("boss", 1, 3, true),
                row("app", 5, 5, false),
                row("free", -1, 9, false),
            ],
            databases: vec![
                row("gone", INVALID_DATABASE, 0, false),
                row("postgres", 0, 2, false),
                row("other", -1, 0, false),
            ],
        });
        assert_eq!(j.limits.roles.len(), 2);
        assert_eq!(j.limits.roles[0].status, Level::Ok);
        assert!(j.limits.roles[0].superuser);
        assert_eq!(j.limits.roles[1].status, Level::Critical);
        assert_eq!(j.limits.databases.len(), 2);
        assert!(j.limits.databases[0].invalid);
        assert_eq!(j.limits.databases[0].limit, None);
        assert_eq!(j.limits.reasons.len(), 2, "{:?}", j.limits.reasons);
        assert!(j.limits.reasons[0]
            .1
            .contains("\"app\" is at its connection limit: 5 of 5"));
        assert!(j.limits.reasons[0]
            .1
            .contains("largest application \"web\" holds 5"));
        assert!(j.limits.reasons[1]
            .1
            .contains("pgconn tune set --database postgres connection_limit=DEFAULT"));
        assert_eq!(j.warnings.len(), 1);
        assert!(j.warnings[0].contains("\"gone\" is invalid"));
    }
}
