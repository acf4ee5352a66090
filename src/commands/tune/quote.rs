//! Safe ALTER statements. ALTER DATABASE / ROLE / SYSTEM take no bind parameters, so pgconn builds each
//! statement on the server with `format()`: identifiers through `%I`, values through `%L`. The format
//! string is fixed text chosen here; every name and value travels as a bind parameter.

use anyhow::{Context, Result};
use postgres::types::Type;

use crate::db::Db;
use crate::report::tune::Scope;
use crate::statement::{Params, Statement};

/// What a statement does to one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    Set(&'a str),
    /// A list setting (search_path and the like): one literal per element, as PostgreSQL stores them.
    SetList(Vec<String>),
    Reset,
    /// `connection_limit` of a database or role: `ALTER DATABASE / ROLE %I CONNECTION LIMIT %s`. The
    /// number is rendered from an i32 here (digits and a sign, nothing else), so `%s` pastes no text a
    /// user typed.
    ConnLimit(i32),
}

impl<'a> Op<'a> {
    /// SET for this setting, as a list when PostgreSQL quotes its elements.
    pub fn set(name: &str, value: &'a str) -> Op<'a> {
        if crate::setting::is_list_quote(name) {
            Op::SetList(crate::setting::list_elements(value))
        } else {
            Op::Set(value)
        }
    }
}

/// The `format()` template and its arguments for one change. A setting name with dots
/// (`pg_stat_statements.max`) is quoted part by part. A connection limit exists for a database or a role
/// only: any other scope is an error (tune refuses it long before).
pub fn template(scope: &Scope, name: &str, op: &Op<'_>) -> Result<(String, Vec<String>)> {
    if let Op::ConnLimit(n) = op {
        return match scope {
            Scope::Database { database } => Ok((
                "ALTER DATABASE %I CONNECTION LIMIT %s".into(),
                vec![database.clone(), n.to_string()],
            )),
            Scope::Role { role } => Ok((
                "ALTER ROLE %I CONNECTION LIMIT %s".into(),
                vec![role.clone(), n.to_string()],
            )),
            _ => anyhow::bail!("{} has no connection limit", scope.label()),
        };
    }
    let mut args: Vec<String> = Vec::new();
    let mut t = String::new();
    match scope {
        Scope::Database { database } => {
            t.push_str("ALTER DATABASE %I");
            args.push(database.clone());
        }
        Scope::Role { role } => {
            t.push_str("ALTER ROLE %I");
            args.push(role.clone());
        }
        Scope::RoleInDatabase { role, database } => {
            t.push_str("ALTER ROLE %I IN DATABASE %I");
            args.push(role.clone());
            args.push(database.clone());
        }
        Scope::System => t.push_str("ALTER SYSTEM"),
    }
    let parts: Vec<&str> = name.split('.').collect();
    let name_t = vec!["%I"; parts.len()].join(".");
    match op {
        Op::Set(_) => t.push_str(&format!(" SET {name_t} = %L")),
        Op::SetList(items) => t.push_str(&format!(
            " SET {name_t} = {}",
            vec!["%L"; items.len().max(1)].join(", ")
        )),
        Op::Reset => t.push_str(&format!(" RESET {name_t}")),
        // Returned above.
        Op::ConnLimit(_) => {}
    }
    args.extend(parts.iter().map(|p| p.to_string()));
    match op {
        Op::Set(v) => args.push(v.to_string()),
        Op::SetList(items) if items.is_empty() => args.push(String::new()),
        Op::SetList(items) => args.extend(items.iter().cloned()),
        Op::Reset | Op::ConnLimit(_) => {}
    }
    Ok((t, args))
}

static FORMAT_SQL: std::sync::LazyLock<Statement> =
    std::sync::LazyLock::new(|| Statement::new(include_str!("../../sql/tune_format.sql")));

/// The templates, their arguments flattened, and how many arguments each takes: `tune_format.sql`'s
/// parameters.
struct Batch {
    templates: Vec<String>,
    args: Vec<String>,
    counts: Vec<i32>,
}

impl Batch {
    fn of(scope: &Scope, changes: &[(&str, Op<'_>)]) -> Result<Batch> {
        let mut b = Batch {
            templates: Vec::new(),
            args: Vec::new(),
            counts: Vec::new(),
        };
        for (name, op) in changes {
            let (t, args) = template(scope, name, op)?;
            b.templates.push(t);
            b.counts.push(i32::try_from(args.len()).unwrap_or(i32::MAX));
            b.args.extend(args);
        }
        Ok(b)
    }

    fn set<'a>(&'a self, p: &mut Params<'a>) {
        p.set("templates", &self.templates, Type::TEXT_ARRAY)
            .set("args", &self.args, Type::TEXT_ARRAY)
            .set("counts", &self.counts, Type::INT4_ARRAY);
    }
}

/// The statements of `changes`, in order, quoted by the server in one round trip.
pub fn build_all(db: &mut Db, scope: &Scope, changes: &[(&str, Op<'_>)]) -> Result<Vec<String>> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let batch = Batch::of(scope, changes)?;
    let mut params = Params::new();
    batch.set(&mut params);
    let rows = db
        .query_named(&FORMAT_SQL, &params)
        .context("could not build the ALTER statements")?;
    if rows.len() != changes.len() {
        anyhow::bail!(
            "the server built {} ALTER statements for {} changes",
            rows.len(),
            changes.len()
        );
    }
    rows.iter().map(|r| r.try_get("sql")).collect()
}

/// An identifier in SQL form for hints printed to people: bare when it is a plain lower-case name,
/// otherwise in double quotes with embedded quotes doubled (as `quote_ident` does, keywords aside).
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !RESERVED.contains(&name) {
        name.to_string()
    } else {
        crate::report::sql_name(name)
    }
}

/// Reserved words that would need quoting as role names in hints (the common ones).
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_role",
    "current_user",
    "default",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "into",
    "leading",
    "limit",
    "not",
    "null",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "when",
    "where",
    "with",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_statement_gets_exactly_its_values() {
        let scope = Scope::Role { role: "app".into() };
        let changes = [
            ("statement_timeout", Op::Set("30s")),
            ("search_path", Op::SetList(vec!["a".into(), "b c".into()])),
            ("pg_stat_statements.max", Op::Reset),
        ];
        let batch = Batch::of(&scope, &changes).unwrap();
        assert_eq!(batch.templates.len(), 3);
        assert_eq!(batch.counts, [3, 4, 3]);
        assert_eq!(batch.args.len(), 10);
        let mut params = Params::new();
        batch.set(&mut params);
        crate::statement::assert_fills(&FORMAT_SQL, &params);
    }

    #[test]
    fn templates_hold_no_user_text() {
        let hostile = "x'; DROP TABLE t; --\"\\";
        for scope in [
            Scope::Database {
                database: hostile.into(),
            },
            Scope::Role {
                role: hostile.into(),
            },
            Scope::RoleInDatabase {
                role: hostile.into(),
                database: hostile.into(),
            },
            Scope::System,
        ] {
            for op in [Op::Set(hostile), Op::Reset, Op::ConnLimit(-1)] {
                let Ok((t, args)) = template(&scope, "statement_timeout", &op) else {
                    assert!(matches!(op, Op::ConnLimit(_)), "{scope:?}");
                    continue;
                };
                assert!(!t.contains("DROP"), "{t}");
                assert!(!t.contains('\''), "{t}");
                // Every placeholder has its argument.
                assert_eq!(t.matches('%').count(), args.len(), "{t} {args:?}");
            }
        }
    }

    #[test]
    fn templates_per_scope() {
        let db = Scope::Database {
            database: "app".into(),
        };
        assert_eq!(
            template(&db, "statement_timeout", &Op::Set("30s")).unwrap(),
            (
                "ALTER DATABASE %I SET %I = %L".to_string(),
                vec!["app".into(), "statement_timeout".into(), "30s".into()]
            )
        );
        let rid = Scope::RoleInDatabase {
            role: "web".into(),
            database: "app".into(),
        };
        assert_eq!(
            template(&rid, "lock_timeout", &Op::Reset).unwrap().0,
            "ALTER ROLE %I IN DATABASE %I RESET %I"
        );
        assert_eq!(
            template(&Scope::System, "pg_stat_statements.max", &Op::Set("5000")).unwrap(),
            (
                "ALTER SYSTEM SET %I.%I = %L".to_string(),
                vec!["pg_stat_statements".into(), "max".into(), "5000".into()]
            )
        );
        assert_eq!(
            template(&Scope::Role { role: "r".into() }, "x", &Op::Reset)
                .unwrap()
                .0,
            "ALTER ROLE %I RESET %I"
        );
    }

    #[test]
    fn connection_limits_of_databases_and_roles_only() {
        let db = Scope::Database {
            database: "a \"b\"; c".into(),
        };
        assert_eq!(
            template(&db, "connection_limit", &Op::ConnLimit(-1)).unwrap(),
            (
                "ALTER DATABASE %I CONNECTION LIMIT %s".to_string(),
                vec!["a \"b\"; c".into(), "-1".into()]
            )
        );
        let role = Scope::Role { role: "Web".into() };
        assert_eq!(
            template(&role, "connection_limit", &Op::ConnLimit(40)).unwrap(),
            (
                "ALTER ROLE %I CONNECTION LIMIT %s".to_string(),
                vec!["Web".into(), "40".into()]
            )
        );
        for scope in [
            Scope::System,
            Scope::RoleInDatabase {
                role: "r".into(),
                database: "d".into(),
            },
        ] {
            assert!(template(&scope, "connection_limit", &Op::ConnLimit(1)).is_err());
        }
    }

    #[test]
    fn list_settings_get_one_literal_per_element() {
        let db = Scope::Database {
            database: "app".into(),
        };
        let op = Op::set("search_path", "\"a, b\", public");
        assert_eq!(
            template(&db, "search_path", &op).unwrap(),
            (
                "ALTER DATABASE %I SET %I = %L, %L".to_string(),
                vec![
                    "app".into(),
                    "search_path".into(),
                    "a, b".into(),
                    "public".into()
                ]
            )
        );
        assert_eq!(Op::set("statement_timeout", "a, b"), Op::Set("a, b"));
    }

    #[test]
    fn identifiers_for_hints() {
        assert_eq!(ident("alice"), "alice");
        assert_eq!(ident("Alice"), "\"Alice\"");
        assert_eq!(ident("we\"ird; x"), "\"we\"\"ird; x\"");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("9lives"), "\"9lives\"");
        assert_eq!(ident(""), "\"\"");
    }
}
