//! `connection_limit`: the CONNECTION LIMIT of a database (pg_database.datconnlimit, `ALTER DATABASE d
//! CONNECTION LIMIT n`) or of a role (pg_roles.rolconnlimit, `ALTER ROLE r CONNECTION LIMIT n`) as a
//! pseudo-setting of `tune`. It is not a GUC: what its scope "stores" is that catalog column, always a
//! number (-1 = no limit), so it is never "not set" and `tune reset` sets -1. Otherwise it takes the path
//! every tune change takes: validated before anything is sent, planned with the server-built statement,
//! confirmed, recorded in the history, and undone only while the column still holds what pgconn set.

use anyhow::Result;
use postgres::types::Type;

use crate::db::Db;
use crate::report::shell_quote;
use crate::report::tune::{quoted, Scope, ShownLimit};
use crate::report::ServerFacts;
use crate::statement::{Params, Statement};

use super::quote;

/// The name `tune set`, `reset`, `undo` and the history use.
pub const NAME: &str = "connection_limit";

/// pg_database.datconnlimit of a database left invalid by an interrupted DROP DATABASE (not a limit).
pub const INVALID_DATABASE: i32 = -2;

pub fn is(name: &str) -> bool {
    name.eq_ignore_ascii_case(NAME)
}

/// Whether `scope` has a connection limit; when not, the refusal that names the scopes that do.
pub fn scope_allows(scope: &Scope) -> Result<(), String> {
    match scope {
        Scope::Database { .. } | Scope::Role { .. } => Ok(()),
        Scope::RoleInDatabase { role, database } => Err(format!(
            "connection_limit is the limit of a database (--database DB: ALTER DATABASE ... CONNECTION \
             LIMIT) or of a role (--role ROLE: ALTER ROLE ... CONNECTION LIMIT); PostgreSQL has none for a \
             role in one database, so --in-database is refused: use --role {} or --database {}",
            shell_quote(role),
            shell_quote(database)
        )),
        Scope::System => Err(
            "connection_limit is the limit of a database (--database DB: ALTER DATABASE ... CONNECTION \
             LIMIT) or of a role (--role ROLE: ALTER ROLE ... CONNECTION LIMIT), not of the whole server: \
             use one of those (the server's own limit is max_connections: `pgconn tune set \
             max_connections=N --system`, then a restart)"
                .into(),
        ),
    }
}

/// The limit `input` asks for, read as PostgreSQL reads `CONNECTION LIMIT`: a whole number from -1 (no
/// limit) up to 2147483647, `+n` too; and `DEFAULT` for a database (ALTER DATABASE ... CONNECTION LIMIT
/// DEFAULT stores -1). ALTER ROLE has no DEFAULT there (a syntax error on 14 to 18), so neither has
/// `--role`.
pub fn parse(scope: &Scope, input: &str) -> Result<i32, String> {
    let t = input.trim();
    if t.eq_ignore_ascii_case("default") {
        return match scope {
            Scope::Role { role } => Err(format!(
                "connection_limit={input}: PostgreSQL accepts DEFAULT for a database's connection limit \
                 only (ALTER ROLE {} CONNECTION LIMIT DEFAULT is a syntax error); for no limit on the role \
                 write connection_limit=-1",
                quote::ident(role)
            )),
            _ => Ok(-1),
        };
    }
    // `-n` or `+n` or `n`, digits only (PostgreSQL's SignedIconst).
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let whole = !unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit());
    // Digits too many for an i64 are far out of range either way.
    let n = whole.then(|| {
        unsigned
            .parse::<i64>()
            .map(|n| if negative { -n } else { n })
            .unwrap_or(if negative { i64::MIN } else { i64::MAX })
    });
    match n {
        Some(n) if n < -1 => Err(format!(
            "connection_limit={input}: a connection limit is -1 (no limit) or more"
        )),
        Some(n) => i32::try_from(n).map_err(|_| {
            format!(
                "connection_limit={input}: the largest connection limit PostgreSQL accepts is {}",
                i32::MAX
            )
        }),
        None => Err(format!(
            "connection_limit={input}: a connection limit is a whole number of sessions, -1 for no limit{}",
            if matches!(scope, Scope::Database { .. }) {
                " (or DEFAULT, the same)"
            } else {
                ""
            }
        )),
    }
}

/// A stored limit for people: `-1 (no limit)`, `0 (no new sessions)`, `40`.
pub fn display(v: &str) -> String {
    match v {
        "-1" => "-1 (no limit)".into(),
        "0" => "0 (no new sessions)".into(),
        other => other.to_string(),
    }
}

static TARGET_SQL: std::sync::LazyLock<Statement> = std::sync::LazyLock::new(|| {
    crate::activity::assemble(include_str!("../../sql/tune_connlimit.sql"))
});

/// A database's or a role's limit now, its sessions, and what PostgreSQL's rule for changing it looks at.
#[derive(Debug, Clone)]
pub struct Target {
    pub scope: Scope,
    /// datconnlimit / rolconnlimit.
    pub limit: i32,
    /// Client backends of the role / in the database now, pgconn's own included.
    pub sessions: i64,
    /// Role only: rolsuper and rolreplication.
    pub superuser: bool,
    pub replication: bool,
    /// Database only: its owner, and whether this role has the owner's privileges.
    pub owner: Option<String>,
    pub owner_privileges: bool,
    /// Role only: this role holds ADMIN OPTION on it (is_admin_of_role).
    pub admin_option: bool,
    /// This role's own CREATEROLE attribute.
    pub createrole: bool,
}

impl Target {
    /// The limit of a database or role scope (None for other scopes, or when it does not exist).
    pub fn load(db: &mut Db, scope: &Scope) -> Result<Option<Target>> {
        let (d, r) = match scope {
            Scope::Database { database } => (Some(database.as_str()), None),
            Scope::Role { role } => (None, Some(role.as_str())),
            _ => return Ok(None),
        };
        let mut params = Params::new();
        params
            .set("database", &d, Type::TEXT)
            .set("role", &r, Type::TEXT);
        let rows = db.query_named(&TARGET_SQL, &params)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Target {
            scope: scope.clone(),
            limit: row.try_get("connlimit")?,
            sessions: row.try_get("sessions")?,
            superuser: row
                .try_get::<_, Option<bool>>("superuser")?
                .unwrap_or(false),
            replication: row
                .try_get::<_, Option<bool>>("replication")?
                .unwrap_or(false),
            owner: row.try_get("owner")?,
            owner_privileges: row
                .try_get::<_, Option<bool>>("owner_privileges")?
                .unwrap_or(false),
            admin_option: row
                .try_get::<_, Option<bool>>("admin_option")?
                .unwrap_or(false),
            createrole: row
                .try_get::<_, Option<bool>>("createrole")?
                .unwrap_or(false),
        }))
    }

    /// For `tune show`.
    pub fn shown(&self) -> ShownLimit {
        let (kind, name) = match &self.scope {
            Scope::Database { database } => ("database", database.clone()),
            Scope::Role { role } => ("role", role.clone()),
            _ => ("", String::new()),
        };
        ShownLimit {
            scope: kind,
            name,
            limit: self.limit,
            sessions: self.sessions,
            superuser: matches!(self.scope, Scope::Role { .. }).then_some(self.superuser),
            invalid_database: self.invalid_database(),
        }
    }

    fn invalid_database(&self) -> bool {
        matches!(self.scope, Scope::Database { .. }) && self.limit == INVALID_DATABASE
    }
}

/// Who this session is, as the privilege rule needs it.
#[derive(Debug, Clone)]
pub struct Me<'a> {
    pub user: &'a str,
    pub superuser: bool,
    pub version_num: i32,
}

impl<'a> Me<'a> {
    pub fn of(facts: &'a ServerFacts) -> Me<'a> {
        Me {
            user: &facts.current_user,
            superuser: facts.is_superuser,
            version_num: facts.version_num,
        }
    }
}

/// Why the limit of `t` cannot be changed here, before anything is asked or sent (None: it can). The rules
/// are PostgreSQL's (dbcommands.c AlterDatabase, user.c AlterRole), each refusal with the GRANT or ALTER
/// that would allow it:
/// - a database: its owner's privileges (the owner, a member that inherits them) or a superuser; a
///   database left invalid by an interrupted DROP DATABASE cannot be altered at all (the server ends the
///   session with FATAL);
/// - a role with SUPERUSER: a superuser only;
/// - 14 and 15: a role with REPLICATION, a superuser only ("must be superuser to alter replication
///   roles"); any other role, CREATEROLE;
/// - 16 and later: CREATEROLE and ADMIN OPTION on the role (which no role holds on itself).
pub fn refusal(t: &Target, me: &Me) -> Option<Refusal> {
    if t.invalid_database() {
        let d = t.scope.database().unwrap_or_default();
        return Some(Refusal::InvalidDatabase(format!(
            "database {} is invalid (datconnlimit = -2: a DROP DATABASE was interrupted), and PostgreSQL \
             refuses to alter it (\"cannot alter invalid database\"); nothing was changed. The only way on \
             is `DROP DATABASE {};`",
            quoted(d),
            quote::ident(d)
        )));
    }
    if me.superuser {
        return None;
    }
    let who = quote::ident(me.user);
    let text = match &t.scope {
        Scope::Database { database } => {
            if t.owner_privileges {
                return None;
            }
            let owner = t.owner.as_deref().unwrap_or("?");
            format!(
                "permission denied: ALTER DATABASE {} CONNECTION LIMIT needs the database's owner (role {}), \
                 a role that has the owner's privileges, or a superuser; role {} is none of them. Nothing was \
                 changed. The owner or a superuser can allow it: `GRANT {} TO {who};` (or run this command \
                 as the owner)",
                quote::ident(database),
                quoted(owner),
                quoted(me.user),
                quote::ident(owner),
            )
        }
        Scope::Role { role } => {
            let r = quote::ident(role);
            if t.superuser {
                format!(
                    "permission denied: role {} is a superuser, and only a superuser may alter a superuser \
                     role; role {} is not one. Nothing was changed. Ask a superuser to run this (a connection \
                     limit does not apply to a superuser anyway)",
                    quoted(role),
                    quoted(me.user)
                )
            } else if me.version_num < 160000 {
                if t.replication {
                    format!(
                        "permission denied: role {} has REPLICATION, and on PostgreSQL 14 and 15 only a \
                         superuser may alter a replication role (\"must be superuser to alter replication \
                         roles\"), CREATEROLE or not; role {} is not one. Nothing was changed. Ask a superuser \
                         to run this",
                        quoted(role),
                        quoted(me.user)
                    )
                } else if t.createrole {
                    return None;
                } else {
                    format!(
                        "permission denied: ALTER ROLE {r} CONNECTION LIMIT needs the CREATEROLE attribute, and \
                         role {} does not have it. Nothing was changed. A superuser can allow it: `ALTER ROLE \
                         {who} CREATEROLE;`",
                        quoted(me.user)
                    )
                }
            } else if t.createrole && t.admin_option {
                return None;
            } else {
                let mut missing = Vec::new();
                if !t.createrole {
                    missing.push(format!(
                        "the CREATEROLE attribute (a superuser can give it: `ALTER ROLE {who} CREATEROLE;`)"
                    ));
                }
                if !t.admin_option {
                    missing.push(if role == me.user {
                        format!(
                            "ADMIN OPTION on role {}, which no role holds on itself: ask a superuser, or a \
                             role with CREATEROLE and ADMIN OPTION on it",
                            quoted(role)
                        )
                    } else {
                        format!(
                            "ADMIN OPTION on role {} (a superuser, or a role that has it, can give it: `GRANT \
                             {r} TO {who} WITH ADMIN OPTION;`)",
                            quoted(role)
                        )
                    });
                }
                format!(
                    "permission denied: on PostgreSQL 16 and later ALTER ROLE {r} CONNECTION LIMIT needs \
                     CREATEROLE and ADMIN OPTION on the role, and role {} lacks {}. Nothing was changed",
                    quoted(me.user),
                    missing.join(", and ")
                )
            }
        }
        _ => return None,
    };
    Some(Refusal::Privilege(text))
}

/// Why a limit cannot be changed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This role lacks what PostgreSQL requires (a failure, exit 1, as for ALTER SYSTEM).
    Privilege(String),
    /// The database is invalid: nobody may alter it (a refusal, exit 2).
    InvalidDatabase(String),
}

impl Refusal {
    pub fn into_error(self) -> anyhow::Error {
        match self {
            Refusal::Privilege(text) => anyhow::anyhow!(text),
            Refusal::InvalidDatabase(text) => crate::exit::refuse(text),
        }
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        match self {
            Refusal::Privilege(t) | Refusal::InvalidDatabase(t) => t,
        }
    }
}

/// What a new limit will do that the operator may not expect: sessions above it stay (new ones are
/// refused), 0 lets nobody in, and superusers are held to no limit.
pub fn warnings(t: &Target, new: i32, me: &Me, my_database: &str) -> Vec<String> {
    let mut w = Vec::new();
    if new == -1 {
        return w;
    }
    let (what, of, error) = match &t.scope {
        Scope::Database { database } => (
            format!("database {}", quoted(database)),
            format!("in database {}", quoted(database)),
            format!("too many connections for database {}", quoted(database)),
        ),
        Scope::Role { role } => (
            format!("role {}", quoted(role)),
            format!("of role {}", quoted(role)),
            format!("too many connections for role {}", quoted(role)),
        ),
        _ => return w,
    };
    let mine = match &t.scope {
        Scope::Database { database } => database == my_database,
        Scope::Role { role } => role == me.user,
        _ => false,
    };
    let own = if mine { ", pgconn's own included" } else { "" };
    let s = t.sessions;
    let sessions = format!("{s} session{}", if s == 1 { "" } else { "s" });
    if i64::from(new) < s {
        let refused = if new == 0 {
            format!("no new session {of} is let in (SQLSTATE 53300: {error})")
        } else {
            format!(
                "new sessions {of} are refused (SQLSTATE 53300: {error}) until fewer than {new} remain"
            )
        };
        w.push(format!(
            "{what} holds {sessions} now{own}, more than the new limit of {new}: none of them is ended, but \
             {refused}"
        ));
    } else if new == 0 {
        w.push(format!(
            "a limit of 0 lets no new session {of} in (SQLSTATE 53300: {error}); only superusers are \
             exempt"
        ));
    }
    if matches!(t.scope, Scope::Role { .. }) && t.superuser {
        w.push(format!(
            "{what} is a superuser: PostgreSQL holds superusers to no connection limit, so this one takes no \
             effect while it is one"
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Scope {
        Scope::Database {
            database: "app".into(),
        }
    }

    fn role() -> Scope {
        Scope::Role { role: "web".into() }
    }

    #[test]
    fn the_target_statement_gets_exactly_its_values() {
        let (d, r): (Option<&str>, Option<&str>) = (None, Some("web"));
        let mut params = Params::new();
        params
            .set("database", &d, Type::TEXT)
            .set("role", &r, Type::TEXT);
        crate::statement::assert_fills(&TARGET_SQL, &params);
    }

    #[test]
    fn values_are_read_as_postgresql_reads_them() {
        assert_eq!(parse(&db(), "-1"), Ok(-1));
        assert_eq!(parse(&db(), "0"), Ok(0));
        assert_eq!(parse(&role(), " 40 "), Ok(40));
        assert_eq!(parse(&role(), "+5"), Ok(5));
        assert_eq!(parse(&db(), "DEFAULT"), Ok(-1));
        assert_eq!(parse(&db(), "default"), Ok(-1));
        assert_eq!(parse(&role(), "2147483647"), Ok(i32::MAX));
        assert!(parse(&role(), "DEFAULT").unwrap_err().contains("-1"));
        assert!(parse(&role(), "-2")
            .unwrap_err()
            .contains("-1 (no limit) or more"));
        assert!(parse(&role(), "2147483648")
            .unwrap_err()
            .contains("largest"));
        for bad in ["", "abc", "1.5", "1e3", "--1", "+-1", "5 sessions", "-"] {
            assert!(parse(&db(), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_databases_and_roles_have_a_limit() {
        assert!(scope_allows(&db()).is_ok());
        assert!(scope_allows(&role()).is_ok());
        let e = scope_allows(&Scope::RoleInDatabase {
            role: "web".into(),
            database: "app".into(),
        })
        .unwrap_err();
        assert!(
            e.contains("--role web") && e.contains("--database app"),
            "{e}"
        );
        let e = scope_allows(&Scope::System).unwrap_err();
        assert!(
            e.contains("--database DB") && e.contains("--role ROLE"),
            "{e}"
        );
        assert!(e.contains("max_connections"), "{e}");
    }

    fn target(scope: Scope) -> Target {
        Target {
            scope,
            limit: -1,
            sessions: 3,
            superuser: false,
            replication: false,
            owner: Some("owner".into()),
            owner_privileges: false,
            admin_option: false,
            createrole: false,
        }
    }

    fn me(version_num: i32) -> Me<'static> {
        Me {
            user: "ops",
            superuser: false,
            version_num,
        }
    }

    #[test]
    fn privileges_follow_alter_role_of_each_major() {
        // A superuser may do anything but alter an invalid database.
        let su = Me {
            user: "postgres",
            superuser: true,
            version_num: 150000,
        };
        let mut t = target(role());
        t.superuser = true;
        assert!(refusal(&t, &su).is_none());
        assert!(refusal(&t, &me(150000))
            .unwrap()
            .text()
            .contains("superuser"));

        let mut t = target(role());
        t.createrole = true;
        assert!(
            refusal(&t, &me(150000)).is_none(),
            "14/15: CREATEROLE is enough"
        );
        let e = refusal(&t, &me(160000)).unwrap().text().to_string();
        assert!(e.contains("GRANT web TO ops WITH ADMIN OPTION"), "{e}");
        t.admin_option = true;
        assert!(refusal(&t, &me(170000)).is_none());
        t.replication = true;
        assert!(
            refusal(&t, &me(180000)).is_none(),
            "16+: REPLICATION is no bar"
        );
        let e = refusal(&t, &me(140000)).unwrap().text().to_string();
        assert!(
            e.contains("must be superuser to alter replication roles"),
            "{e}"
        );

        let t = target(role());
        let e = refusal(&t, &me(150000)).unwrap().text().to_string();
        assert!(e.contains("ALTER ROLE ops CREATEROLE"), "{e}");
        let e = refusal(&t, &me(160000)).unwrap().text().to_string();
        assert!(
            e.contains("CREATEROLE") && e.contains("ADMIN OPTION"),
            "{e}"
        );

        let mut t = target(db());
        assert!(refusal(&t, &me(150000))
            .unwrap()
            .text()
            .contains("GRANT owner TO ops"));
        t.owner_privileges = true;
        assert!(refusal(&t, &me(150000)).is_none());
        t.limit = INVALID_DATABASE;
        let r = refusal(&t, &su).unwrap();
        assert!(matches!(r, Refusal::InvalidDatabase(_)), "{r:?}");
        assert!(r.text().contains("DROP DATABASE app"), "{r:?}");
    }

    #[test]
    fn warnings_say_what_a_limit_does_not_do() {
        let t = target(role());
        let w = warnings(&t, 1, &me(150000), "x");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("3 sessions") && w[0].contains("none of them is ended"));
        assert!(warnings(&t, 3, &me(150000), "x").is_empty());
        assert!(warnings(&t, -1, &me(150000), "x").is_empty());
        let mut t = target(db());
        t.sessions = 0;
        assert!(warnings(&t, 0, &me(150000), "x")[0].contains("no new session"));
        let mut t = target(role());
        t.superuser = true;
        let w = warnings(&t, 10, &me(150000), "x");
        assert!(w
            .iter()
            .any(|w| w.contains("holds superusers to no connection limit")));
    }
}
