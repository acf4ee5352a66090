//! `--fallback-user`: when the server refuses a role at its CONNECTION LIMIT, the operator may name
//! another role (pgconn never guesses credentials). pgconn then connects as that one, to the same host,
//! port and database, with its own password, reads the limited role's sessions by application and state
//! in one statement, and adds them to the refusal: what to free. Nothing else runs as that role.

use std::sync::LazyLock;

use crate::conninfo::ConnSpec;
use crate::report::{age, shell_quote, sql_name};
use crate::statement::{Params, Statement};
use crate::text::clean;

static SESSIONS_SQL: LazyLock<Statement> = LazyLock::new(|| {
    Statement::new(
        &include_str!("../sql/refusal_role_sessions.sql").replace(
            "/*CLIENT_BACKEND_RULE*/",
            include_str!("../sql/client_backend_rule.sql")
                .split_once('\n')
                .map_or("", |(_, rule)| rule)
                .trim_end(),
        ),
    )
});

/// The lines added to a role-limit refusal: the limited role's sessions as `fallback` sees them, or why
/// they could not be read.
pub(super) fn sessions_of(fallback: &ConnSpec, role: &str) -> String {
    let by = format!("role {}", sql_name(&clean(fallback.user())));
    let rows = super::connect_once(fallback).and_then(|(mut client, _, _)| {
        let mut p = Params::new();
        p.set("role", &role, postgres::types::Type::TEXT);
        let values = SESSIONS_SQL
            .bind(&p)
            .map_err(|e| anyhow::anyhow!("pgconn bug: {e}"))?;
        let values: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|(v, _)| *v).collect();
        Ok(client.query(SESSIONS_SQL.text(), &values)?)
    });
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            return format!(
            "--fallback-user: connecting as {by} to show the sessions of role {} failed too: {}",
            sql_name(role),
            crate::conninfo::redact(&clean(&format!("{e:#}")))
        )
        }
    };
    let mut lines = Vec::new();
    let mut total = 0i64;
    for r in &rows {
        let mut read = || -> Result<String, postgres::Error> {
            let app: String = r.try_get("application")?;
            let state: Option<String> = r.try_get("state")?;
            let n: i32 = r.try_get("sessions")?;
            let oldest: Option<f64> = r.try_get("oldest_state_seconds")?;
            total += i64::from(n);
            let app = if app.is_empty() {
                "(no application_name)".to_string()
            } else {
                format!("\"{}\"", clean(&app))
            };
            let state = state.map_or_else(
                || "state not visible (no pg_read_all_stats)".to_string(),
                |s| clean(&s).into_owned(),
            );
            let since = oldest
                .map(|a| format!(", oldest {}", age(a)))
                .unwrap_or_default();
            Ok(format!("  {n:>5}  {app} {state}{since}"))
        };
        match read() {
            Ok(l) => lines.push(l),
            Err(e) => {
                return format!(
                    "--fallback-user: reading the sessions of role {}: {e}",
                    sql_name(role)
                )
            }
        }
    }
    if lines.is_empty() {
        return format!(
            "Seen as {by}: role {} holds no client session now (the limit may have been lowered, or its \
             sessions just ended): try again",
            sql_name(role)
        );
    }
    format!(
        "Seen as {by}, role {} holds {total} client session(s), by application and state:\n{}\nFree \
         idle ones with: pgconn -U {me} kill-idle --user {} --older-than 10min (add --dry-run to preview), \
         or raise the limit: pgconn -U {me} tune set --role {} connection_limit=N",
        sql_name(role),
        lines.join("\n"),
        shell_quote(role),
        shell_quote(role),
        me = shell_quote(fallback.user()),
    )
}
