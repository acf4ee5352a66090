//! The audit log of `kill`, `kill-idle` and `rescue` (`--log FILE`): JSON lines appended to a file created
//! mode 0600 and opened by [`crate::files`]' rules (never through a link, a FIFO or a device), each write
//! synced before pgconn goes on. In order: a `plan` line, then per batch one `target` line per session
//! *before* it is signalled and one `session` line with its observed outcome after, and a `summary` line
//! last. A write that fails stops the run before the next signal, and nothing more is appended after it
//! (no line follows a torn one). Every line carries `time`, `event`, `action` and `server` (for `rescue`,
//! the cluster on this host); per-session lines name the session the same way for every command (pid,
//! backend_start, database, user, application, client, state, state_seconds).
//!
//! Never in the log: passwords or any other connection secret (the server is named by host, port,
//! database and user), and query text unless `--log-queries`, then with its string literals and comments
//! masked (an idle session's last statement may be `ALTER ROLE ... PASSWORD '...'`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};

use crate::activity::now_rfc3339;
use crate::files;
use crate::report::batch::Summary;
use crate::report::kill::Action;
use crate::report::State;

/// Longest query text kept in the log (pg_stat_activity keeps 1024 bytes by default).
const QUERY_MAX_CHARS: usize = 2000;

/// The session a line is about.
#[derive(Clone)]
pub struct Who<'a> {
    pub pid: i32,
    /// When it started (pg_stat_activity.backend_start, or the process start time for `rescue`).
    pub backend_start: Option<&'a str>,
    pub database: Option<&'a str>,
    pub user: Option<&'a str>,
    /// None where it cannot be known (`rescue`: process titles do not carry it).
    pub application: Option<&'a str>,
    pub client: Option<&'a str>,
    pub state: Option<&'a State>,
    pub state_seconds: Option<f64>,
}

pub struct AuditLog {
    path: PathBuf,
    file: File,
    server: Value,
    queries: bool,
    /// The first write that failed; nothing is written after it.
    failed: Option<String>,
    warning: Option<String>,
}

impl AuditLog {
    /// Open (or create, mode 0600) the log for appending, by the rules every file pgconn writes follows
    /// ([`crate::files`]: never through a link, only a regular file of this user's in a directory nobody
    /// else may change). Fails — a refusal, exit 2 — before anything is done.
    /// `server` names what is acted on (never with a secret), in every line.
    pub fn open(path: &Path, server: Value, queries: bool) -> Result<AuditLog> {
        // A new file's name must survive a crash as its synced lines do.
        let opened = files::open_durable(path).with_context(|| {
            format!(
                "cannot open the audit log {}; nothing was done",
                path.display()
            )
        })?;
        let file = opened.file;
        let warning = {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            file.metadata().ok().and_then(|m| {
                (m.permissions().mode() & 0o077 != 0).then(|| {
                    format!(
                        "the audit log {} can be read by others (mode {:o}); `chmod 600` it",
                        path.display(),
                        m.mode() & 0o777
                    )
                })
            })
        };
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            server,
            queries,
            failed: None,
            warning,
        })
    }

    /// A warning about the file itself (readable by others), for the operator.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Whether a write failed (the log is incomplete).
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Append `lines` and sync them to disk; after a failure, every further write fails too.
    fn write(&mut self, lines: &[Value]) -> Result<()> {
        if let Some(first) = &self.failed {
            return Err(anyhow!(
                "the audit log {} could not be written before ({first}); nothing more is appended",
                self.path.display()
            ));
        }
        let mut buf = String::new();
        for l in lines {
            buf.push_str(&serde_json::to_string(l)?);
            buf.push('\n');
        }
        let result = self
            .file
            .write_all(buf.as_bytes())
            .and_then(|_| self.file.flush())
            .and_then(|_| self.file.sync_data());
        // Not an io::Error in the chain: a log whose reader went away (EPIPE) must not pass for a closed
        // stdout, which ends pgconn quietly.
        result.map_err(|e| {
            self.failed = Some(e.to_string());
            anyhow!("could not write the audit log {}: {e}", self.path.display())
        })
    }

    /// Whether `--log-queries` asked for query text.
    pub fn queries(&self) -> bool {
        self.queries
    }

    /// A line of `event` with `fields` after the ones every line has.
    fn line(&self, event: &str, action: Action, fields: Value) -> Value {
        let mut l = json!({
            "time": now_rfc3339(),
            "event": event,
            "action": action,
            "server": self.server,
        });
        if let (Some(l), Value::Object(f)) = (l.as_object_mut(), fields) {
            l.extend(f);
        }
        l
    }

    /// The plan: what was selected and what will be done, before anything is.
    pub fn plan(&mut self, action: Action, fields: Value) -> Result<()> {
        let mut fields = fields;
        fields["pgconn"] = json!(env!("CARGO_PKG_VERSION"));
        let line = self.line("plan", action, fields);
        self.write(&[line])
    }

    /// A per-session line: which session, then `extra`.
    fn session_line(&self, event: &str, action: Action, who: &Who, extra: Value) -> Value {
        let mut fields = json!({
            "pid": who.pid,
            "backend_start": who.backend_start,
            "database": who.database,
            "user": who.user,
            "application": who.application,
            "client": who.client,
            "state": who.state,
            "state_seconds": who.state_seconds,
        });
        if let (Some(f), Value::Object(e)) = (fields.as_object_mut(), extra) {
            f.extend(e);
        }
        self.line(event, action, fields)
    }

    /// One line per session of a batch, before it is signalled; with `--log-queries`, its last query,
    /// masked.
    pub fn targets(
        &mut self,
        batch: usize,
        action: Action,
        targets: &[(Who, Option<&str>)],
    ) -> Result<()> {
        let lines: Vec<(Who, Option<&str>, Value)> = targets
            .iter()
            .map(|(who, query)| (who.clone(), *query, Value::Null))
            .collect();
        self.targets_with(batch, action, &lines)
    }

    /// [`AuditLog::targets`] with more fields on each line (an object, added after the others; `kill
    /// --blockers`: the pids each target blocks).
    pub fn targets_with(
        &mut self,
        batch: usize,
        action: Action,
        targets: &[(Who, Option<&str>, Value)],
    ) -> Result<()> {
        let lines: Vec<Value> = targets
            .iter()
            .map(|(who, query, more)| {
                let mut extra = json!({ "batch": batch });
                if self.queries {
                    extra["query"] = json!(query.map(masked_query));
                }
                if let (Some(e), Value::Object(m)) = (extra.as_object_mut(), more) {
                    e.extend(m.clone());
                }
                self.session_line("target", action, who, extra)
            })
            .collect();
        self.write(&lines)
    }

    /// One line per session with its observed outcome (`extra`: outcome, skip, reason, ...).
    pub fn outcomes(&mut self, action: Action, outcomes: &[(Who, Value)]) -> Result<()> {
        let lines: Vec<Value> = outcomes
            .iter()
            .map(|(who, extra)| self.session_line("session", action, who, extra.clone()))
            .collect();
        self.write(&lines)
    }

    /// The last line: what was done (`counts`: targeted, terminated, ... as in the report's summary),
    /// `fields`, and why the run stopped early.
    pub fn summary(&mut self, action: Action, counts: &Summary, fields: Value) -> Result<()> {
        let mut fields = fields;
        if let (Some(f), Ok(Value::Object(c))) =
            (fields.as_object_mut(), serde_json::to_value(counts))
        {
            f.extend(c);
        }
        let line = self.line("summary", action, fields);
        self.write(&[line])
    }
}

fn masked_query(q: &str) -> String {
    let masked = mask_literals(q);
    if masked.chars().count() > QUERY_MAX_CHARS {
        let mut s: String = masked.chars().take(QUERY_MAX_CHARS - 1).collect();
        s.push('…');
        s
    } else {
        masked
    }
}

pub use crate::text::sql::mask_literals;

#[cfg(test)]
mod tests {
    use super::mask_literals;

    #[test]
    fn passwords_and_other_literals_are_masked() {
        assert_eq!(
            mask_literals("ALTER ROLE app PASSWORD 'hunter2'"),
            "ALTER ROLE app PASSWORD '…'"
        );
        assert_eq!(
            mask_literals("select 'it''s', 1 from t where a = $1"),
            "select '…', 1 from t where a = $1"
        );
        assert_eq!(mask_literals("select E'a\\'secret'"), "select E'…'");
        assert_eq!(
            mask_literals("do $$ secret $$; select $tag$x$tag$"),
            "do '…'; select '…'"
        );
        assert_eq!(mask_literals("select a$b, $1"), "select a$b, $1");
        assert_eq!(
            mask_literals("select 1 -- pw: x\nfrom t"),
            "select 1 --…\nfrom t"
        );
        assert_eq!(mask_literals("select /* k */ 1"), "select /*…*/ 1");
        assert_eq!(
            mask_literals("select /* a /* b */ secret */ 1"),
            "select /*…*/ 1"
        );
        assert_eq!(
            mask_literals("select \"we'ird\" from t"),
            "select \"we'ird\" from t"
        );
        assert_eq!(mask_literals("LISTEN jobs"), "LISTEN jobs");
        assert_eq!(mask_literals("select 'unterminated secret"), "select '…'");
    }

    #[test]
    fn a_secret_is_hidden_whatever_standard_conforming_strings_is() {
        // standard_conforming_strings on: 'abc\' is one literal, 'secret' another.
        let on = mask_literals(r"select 'abc\', 'secret'");
        assert!(!on.contains("secret"), "{on}");
        // off: \' escapes the quote, the literal runs to the last quote.
        let off = mask_literals(r"select 'it\'s a secret'");
        assert!(!off.contains("secret"), "{off}");
    }
}
