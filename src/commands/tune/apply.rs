//! Carrying out a plan: re-check it, record the history, run the ALTER statements (one transaction for a
//! database / role; one statement at a time and a reload for the server), and report what took effect.
//! Failures are explained by SQLSTATE: who may make the change and what to do instead.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use crate::report::shell_quote;
use postgres::error::SqlState;
use postgres::types::Type;

use super::catalog::{self, Catalog};

use super::history::{self};
use super::limit;
use super::plan::{stored_now, system_denied, Context};
use super::quote;
use crate::db::{self, Db};
use crate::report::tune::ChangeReport;
use crate::report::tune::{quoted, Scope};
use crate::report::tune::{ApplyOutcome, Effect, LimitOutcome};
use crate::report::tune::{ChangeRecord, Entry};
use crate::report::ServerFacts;
use crate::setting;
use crate::statement::{Params, Statement};

/// Ask, record the history, apply, and fill in the outcome.
pub fn apply(
    db: &mut Db,
    report: &mut ChangeReport,
    ctx: &Context,
    history_path: &Path,
) -> Result<()> {
    // A managed platform's --system plan is the provider's commands, never applied here (the plan does
    // not act, so the command line never gets here; a library caller must not either).
    if let Some(p) = report.platform {
        return Err(anyhow!(
            "on {}, --system changes are made with the provider's commands: pgconn applies nothing",
            p.name()
        ));
    }
    // Act only on what the plan showed: the old values must still be what the scope stores.
    let with_limit = report.pending().any(|c| limit::is(&c.name));
    let now = stored_now(db, &report.scope, with_limit)?.values;
    let moved: Vec<&str> = report
        .pending()
        .filter(|c| now.get(&c.name) != c.old.as_ref())
        .map(|c| c.name.as_str())
        .collect();
    if !moved.is_empty() {
        return Err(anyhow!(
            "{} changed in {} since the plan was made; nothing was changed. Run the command again to see \
             a fresh plan",
            moved.join(", "),
            report.scope.label()
        ));
    }
    let id = history::new_id();
    let entry = Entry {
        id: id.clone(),
        time: crate::activity::now_rfc3339(),
        action: report.action.to_string(),
        server: ctx.server.clone(),
        scope: report.scope.clone(),
        changes: report
            .pending()
            .map(|c| ChangeRecord {
                name: c.name.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                old_in_effect: match (&c.old, &c.in_effect_without) {
                    (None, Some(e)) => Some(format!("{} ({})", e.value, e.source)),
                    _ => None,
                },
            })
            .collect(),
        undoes: report.undoes.clone(),
    };
    history::record(history_path, &entry)?;
    report.history_file = Some(history_path.display().to_string());
    report.history_id = Some(id.clone());

    let statements: Vec<(String, String)> = report
        .pending()
        .filter_map(|c| c.sql.clone().map(|s| (c.name.clone(), s)))
        .collect();
    let scope = report.scope.clone();
    if scope == Scope::System {
        for (done, (name, sql)) in statements.iter().enumerate() {
            if let Err(e) = db.execute_outside_transaction(sql) {
                if db::connection_lost(&e) {
                    return Err(outcome_unknown(e, &scope, history_path, &id));
                }
                let explained = explain(e, &scope, db.facts()?, ctx, &[name.as_str()]);
                if done == 0 {
                    return Err(with_failure_recorded(history_path, &id, explained));
                }
                return Err(explained.context(format!(
                    "{done} of {} changes were written to postgresql.auto.conf (not reloaded) before this \
                     one failed, and the tune history {} records all of them as entry {id}; `pgconn tune \
                     undo --force` takes them back out",
                    statements.len(),
                    history_path.display()
                )));
            }
        }
        report.applied = true;
        let outcome =
            after_system(db, report, ctx).map_err(|e| applied_but(e, &scope, history_path, &id))?;
        report.outcome = Some(outcome);
    } else {
        // One simple-protocol query: the statements run as one transaction, all or nothing.
        let batch = statements
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join(";\n");
        if let Err(e) = db.execute_simple(&batch) {
            if db::connection_lost(&e) {
                return Err(outcome_unknown(e, &scope, history_path, &id));
            }
            let names: Vec<&str> = statements.iter().map(|(n, _)| n.as_str()).collect();
            let explained = explain(e, &scope, db.facts()?, ctx, &names);
            return Err(with_failure_recorded(history_path, &id, explained));
        }
        report.applied = true;
        let outcome =
            after_scoped(db, report).map_err(|e| applied_but(e, &scope, history_path, &id))?;
        report.outcome = Some(outcome);
    }
    Ok(())
}

/// Mark history entry `id` as failed (nothing of it was applied) and return `error`; when the history
/// cannot record that either, the error says so: `tune history` would show the change as applied.
fn with_failure_recorded(path: &Path, id: &str, error: anyhow::Error) -> anyhow::Error {
    match history::record_failure(path, id, &format!("{error:#}")) {
        Ok(()) => error,
        Err(e) => error.context(format!(
            "and the tune history could not record that entry {id} failed ({e:#}): `pgconn tune history` \
             lists it as applied although nothing of it was"
        )),
    }
}

/// An error after the change was made: it says so, and where the history keeps it, so that nobody takes
/// the failure for a change that did not happen (the entry was written before the change).
fn applied_but(error: anyhow::Error, scope: &Scope, path: &Path, id: &str) -> anyhow::Error {
    error.context(format!(
        "{} was changed and the change is recorded in the tune history {} as entry {id} (`pgconn tune \
         undo` takes it back), but what followed failed",
        scope.label(),
        path.display()
    ))
}

/// The connection ended while the change was being made: the server may have made it or not. The
/// history entry stays as written (not marked failed), so that `tune undo` can still take it back.
fn outcome_unknown(error: anyhow::Error, scope: &Scope, path: &Path, id: &str) -> anyhow::Error {
    error.context(format!(
        "the connection was lost while {} was being changed: whether the change was made is unknown. The \
         tune history {} keeps it as entry {id}, so `pgconn tune undo` can take it back; `pgconn tune \
         show` says what is in effect now",
        scope.label(),
        path.display()
    ))
}

static SESSIONS_BEFORE_SQL: std::sync::LazyLock<Statement> = std::sync::LazyLock::new(|| {
    crate::activity::assemble(include_str!("../../sql/tune_sessions_before.sql"))
});

/// After ALTER DATABASE / ROLE: how many sessions in the scope still run with the old values; after a
/// CONNECTION LIMIT, the sessions the database or role holds now (none of them was ended).
fn after_scoped(db: &mut Db, report: &ChangeReport) -> Result<ApplyOutcome> {
    let scope = &report.scope;
    let connection_limit = if report.pending().any(|c| limit::is(&c.name)) {
        limit::Target::load(db, scope)?.map(|t| LimitOutcome {
            limit: t.limit,
            sessions: t.sessions,
        })
    } else {
        None
    };
    if !report.pending().any(|c| !limit::is(&c.name)) {
        // Only the limit changed: no setting for sessions to keep an old value of.
        return Ok(ApplyOutcome {
            connection_limit,
            ..ApplyOutcome::default()
        });
    }
    let (d, r) = (scope.database(), scope.role());
    let mut params = Params::new();
    params
        .set("database", &d, Type::TEXT)
        .set("role", &r, Type::TEXT);
    let row = db
        .query_named(&SESSIONS_BEFORE_SQL, &params)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("counting the sessions with old values returned no row"))?;
    let before: i64 = row.try_get("before")?;
    let hidden: i64 = row.try_get("not_visible")?;
    Ok(ApplyOutcome {
        new_sessions_only: true,
        sessions_with_old_value: Some(before),
        sessions_not_visible: Some(hidden),
        reloaded: None,
        effects: Vec::new(),
        connection_limit,
        next_steps: Vec::new(),
    })
}

/// After ALTER SYSTEM: reload, wait until this session has seen the reload, then re-read pg_settings.
fn after_system(db: &mut Db, report: &ChangeReport, ctx: &Context) -> Result<ApplyOutcome> {
    let mut out = ApplyOutcome::default();
    let guard = ctx.guard.clone().unwrap_or_default();
    let reload = db.query_one(include_str!("../../sql/tune_reload.sql"), &[]);
    let reloaded = match reload {
        Ok(r) => r.try_get::<_, bool>("reloaded")?,
        Err(e) if db::sqlstate(&e) == Some(SqlState::INSUFFICIENT_PRIVILEGE) => {
            out.next_steps.push(format!(
                "role {} may not call pg_reload_conf(): the new values are in postgresql.auto.conf but not \
                 loaded. Run `SELECT pg_reload_conf();` as a superuser (or GRANT EXECUTE ON FUNCTION \
                 pg_reload_conf() TO {}), or `pg_ctl reload`",
                quoted(&db.facts()?.current_user),
                quote::ident(&db.facts()?.current_user)
            ));
            false
        }
        Err(e) => return Err(e.context("the reload failed")),
    };
    let mut seen = false;
    if reloaded {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let r = db.query_one(include_str!("../../sql/tune_conf_load_time.sql"), &[])?;
            let t: Option<String> = r.try_get("conf_load_time")?;
            if t != guard.conf_load_time {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !seen {
            out.next_steps.push(
                "the reload was requested but had not reached this session after 5s; check with \
                 `pgconn tune show` in a moment"
                    .into(),
            );
        }
    }
    out.reloaded = Some(reloaded && seen);

    let cat = Catalog::load(db)?;
    let files = catalog::file_settings(db)?;
    let mut restart = Vec::new();
    for c in report.pending() {
        let Some(s) = cat.get(&c.name) else { continue };
        let meta = s.meta();
        let mut running = setting::display(&meta, &s.setting);
        let status = if !reloaded || !seen {
            "not_reloaded"
        } else if s.pending_restart {
            restart.push(c.name.clone());
            "pending_restart"
        } else if s.source == "command line" {
            // A server command-line option beats every configuration file.
            "not_applied"
        } else if let Some(files) = files.as_deref() {
            // The files say what every session now gets, even where this session cannot see it (its
            // own values, TCP keepalives on a unix socket).
            let last = files.iter().rev().find(|e| e.name == c.name);
            let ok = |e: &catalog::FileEntry| e.applied && e.error.is_none();
            match (last, &c.new) {
                (Some(e), Some(v)) if e.auto_conf && ok(e) && e.setting.as_deref() == Some(v) => {
                    running = setting::display(&meta, v);
                    "applied"
                }
                (Some(e), None) if !e.auto_conf && ok(e) => {
                    if let Some(v) = &e.setting {
                        running = setting::display(&meta, v);
                    }
                    "applied"
                }
                (None, None) => {
                    if let Some(b) = &s.boot_val {
                        running = setting::display(&meta, b);
                    }
                    "applied"
                }
                _ => "not_applied",
            }
        } else if s.session_sourced() {
            "reloaded"
        } else {
            match &c.new {
                Some(v) if !setting::same_value(&meta, v, &s.setting) => "not_applied",
                _ => "applied",
            }
        };
        out.effects.push(Effect {
            name: c.name.clone(),
            status,
            running_value: running,
            pending_restart: s.pending_restart,
        });
    }
    if !restart.is_empty() {
        let cmd = match &guard.data_directory {
            Some(d) => format!("pg_ctl restart -D {}", shell_quote(d)),
            None => "pg_ctl restart -D <data directory>".into(),
        };
        out.next_steps.push(format!(
            "{} take(s) effect only after a restart, which pgconn never does itself. Restart when it suits \
             (all sessions are disconnected): `{cmd}` as the server's OS user, `sudo systemctl restart \
             postgresql`, or a reboot from the console on a managed service",
            restart.join(", ")
        ));
    }
    if out.effects.iter().any(|e| e.status == "not_applied") {
        out.next_steps.push(
            "a setting shows another value than the one written: a server command-line option or an \
             error in the configuration files may take precedence (`pgconn tune show`, pg_file_settings)"
                .into(),
        );
    }
    Ok(out)
}

/// Turn a failed ALTER into a message that says who may do it and what to do instead (by SQLSTATE).
fn explain(
    e: anyhow::Error,
    scope: &Scope,
    facts: &ServerFacts,
    ctx: &Context,
    names: &[&str],
) -> anyhow::Error {
    let user = &facts.current_user;
    if db::sqlstate(&e) != Some(SqlState::INSUFFICIENT_PRIVILEGE) {
        return e.context(format!(
            "could not change {}; nothing was changed",
            scope.label()
        ));
    }
    let server_said = db::describe_error(&e).unwrap_or_else(|| format!("{e}"));
    let superuser_only: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| ctx.catalog.get(n).is_some_and(|s| s.context == "superuser"))
        .collect();
    let param_note = if superuser_only.is_empty() || facts.is_superuser {
        String::new()
    } else {
        format!(
            "{} may only be set by a superuser or a role granted SET on it (GRANT SET ON PARAMETER {} TO {}). ",
            superuser_only.join(", "),
            superuser_only.join(", "),
            quote::ident(user)
        )
    };
    let msg = match scope {
        Scope::Database { database } => format!(
            "permission denied: ALTER DATABASE ... SET needs the owner of database {} or a superuser. \
             {param_note}Ask the owner or a superuser to run this, or set it for your own role only: \
             `pgconn tune set ... --role {}`",
            quoted(database),
            shell_quote(user)
        ),
        Scope::Role { role } | Scope::RoleInDatabase { role, .. } if role == user => format!(
            "permission denied: {param_note}Ask a superuser to set it for role {}",
            quoted(role)
        ),
        Scope::Role { role } | Scope::RoleInDatabase { role, .. } => format!(
            "permission denied: ALTER ROLE ... SET needs a superuser, or CREATEROLE for a non-superuser role \
             (on PostgreSQL 16+ also ADMIN OPTION on it); a role may only change its own defaults otherwise, \
             so role {} may not change role {}. {param_note}Ask a superuser, or use --database DB for a \
             database you own",
            quoted(user),
            quoted(role)
        ),
        Scope::System => system_denied(user, names, ctx.guard.as_ref(), &ctx.catalog),
    };
    anyhow!("{msg} (server: {server_said})")
}

#[cfg(test)]
mod statement_tests {
    use super::*;

    #[test]
    fn the_sessions_before_statement_gets_exactly_its_values() {
        let (d, r): (Option<&str>, Option<&str>) = (Some("app"), None);
        let mut params = Params::new();
        params
            .set("database", &d, Type::TEXT)
            .set("role", &r, Type::TEXT);
        crate::statement::assert_fills(&SESSIONS_BEFORE_SQL, &params);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_the_history_cannot_record_is_reported() {
        let e = with_failure_recorded(Path::new("/dev/full"), "1-2", anyhow!("permission denied"));
        let text = format!("{e:#}");
        assert!(
            text.contains("could not record that entry 1-2 failed")
                && text.contains("permission denied"),
            "{text}"
        );
        let dir = tempfile::tempdir().unwrap();
        let ok = with_failure_recorded(&dir.path().join("h.jsonl"), "1-2", anyhow!("boom"));
        assert_eq!(format!("{ok:#}"), "boom");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("alice"), "alice");
        assert_eq!(shell_quote("it's me"), "\"it's me\"");
        assert_eq!(
            shell_quote("/var/lib/postgresql/15/main"),
            "/var/lib/postgresql/15/main"
        );
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
    }
}
