//! `pgconn tune`: settings as shown (value, source, overrides, recommendation), a change's plan (old → new
//! with the exact SQL) and what applying it did, the history of changes, and the presets.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a tune change goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Database { database: String },
    Role { role: String },
    RoleInDatabase { role: String, database: String },
    System,
}

impl Scope {
    pub fn from_parts(database: Option<&str>, role: Option<&str>, system: bool) -> Option<Scope> {
        match (database, role, system) {
            (_, _, true) => Some(Scope::System),
            (Some(d), Some(r), _) => Some(Scope::RoleInDatabase {
                role: r.to_string(),
                database: d.to_string(),
            }),
            (Some(d), None, _) => Some(Scope::Database {
                database: d.to_string(),
            }),
            (None, Some(r), _) => Some(Scope::Role {
                role: r.to_string(),
            }),
            (None, None, false) => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Database { .. } => "database",
            Scope::Role { .. } => "role",
            Scope::RoleInDatabase { .. } => "role_in_database",
            Scope::System => "system",
        }
    }

    pub fn database(&self) -> Option<&str> {
        match self {
            Scope::Database { database } | Scope::RoleInDatabase { database, .. } => Some(database),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<&str> {
        match self {
            Scope::Role { role } | Scope::RoleInDatabase { role, .. } => Some(role),
            _ => None,
        }
    }

    /// For people: `database "app"`, `role "web" in database "app"`, `the server (ALTER SYSTEM)`.
    pub fn label(&self) -> String {
        match self {
            Scope::Database { database } => format!("database {}", quoted(database)),
            Scope::Role { role } => format!("role {}", quoted(role)),
            Scope::RoleInDatabase { role, database } => {
                format!("role {} in database {}", quoted(role), quoted(database))
            }
            Scope::System => "the whole server (ALTER SYSTEM)".into(),
        }
    }

    /// [`Scope::label`], and on a managed platform (where `--system` sends nothing and prints the
    /// provider's commands) what happens there instead of ALTER SYSTEM.
    pub fn label_on(&self, platform: Option<crate::report::platform::Platform>) -> String {
        match (self, platform) {
            (Scope::System, Some(_)) => {
                "the whole server, through the provider (nothing applied here)".into()
            }
            _ => self.label(),
        }
    }
}

/// A name in double quotes for messages, with embedded quotes doubled (as SQL writes it).
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(Debug, Clone, Serialize)]
pub struct ShowReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub server_version: String,
    pub server_version_num: i32,
    /// The database and role the effective values are for (null: any, i.e. server-wide values).
    pub database: Option<String>,
    pub role: Option<String>,
    pub settings: Vec<ShownSetting>,
    /// Connection settings this server version does not have.
    pub not_available: Vec<NotAvailable>,
    /// The CONNECTION LIMIT of the database and / or role asked about (`tune set connection_limit=N`).
    pub connection_limits: Vec<ShownLimit>,
    pub warnings: Vec<String>,
}

/// A database's or a role's CONNECTION LIMIT and the sessions it holds now.
#[derive(Debug, Clone, Serialize)]
pub struct ShownLimit {
    /// database or role.
    pub scope: &'static str,
    pub name: String,
    /// pg_database.datconnlimit / pg_roles.rolconnlimit: -1 = no limit.
    pub limit: i32,
    /// Client sessions of the role / in the database now (what the server counts against the limit).
    pub sessions: i64,
    /// For a role: it is a superuser, held to no connection limit. Null for a database.
    pub superuser: Option<bool>,
    /// For a database: datconnlimit = -2, left invalid by an interrupted DROP DATABASE (not a limit).
    pub invalid_database: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotAvailable {
    pub name: String,
    pub since_version_num: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShownSetting {
    pub name: String,
    /// The effective value in PostgreSQL's notation (`5min`, `0`, `100`).
    pub value: String,
    /// The same in the setting's unit (what pg_settings.setting shows), for numeric settings.
    pub value_in_unit: Option<f64>,
    /// pg_settings.unit (`ms`, `s`, none).
    pub unit: Option<String>,
    /// default, configuration_file, alter_system, command_line, environment_variable, all_roles,
    /// database, role, role_in_database or other.
    pub source: String,
    /// The file and line, or the database / role the value is stored for.
    pub source_detail: Option<String>,
    /// The server-wide value (what applies without database or role settings).
    pub server_value: String,
    pub server_source: String,
    /// pg_settings.context (user, superuser, sighup, postmaster, ...).
    pub context: String,
    /// Changing it needs a server restart (context postmaster).
    pub restart_required: bool,
    /// A changed value is waiting for a restart (pg_settings.pending_restart).
    pub pending_restart: bool,
    /// Values stored per database / role (ALTER DATABASE / ALTER ROLE ... SET).
    pub overrides: Vec<Override>,
    pub recommendation: Recommendation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Override {
    /// database, role, role_in_database or all_roles.
    pub scope: &'static str,
    pub database: Option<String>,
    pub role: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// ok, suggest (a change is recommended) or warning.
    pub level: &'static str,
    /// The suggested value, when there is one.
    pub value: Option<String>,
    pub reason: String,
}

/// One setting in a plan.
#[derive(Debug, Clone, Serialize)]
pub struct TuneChange {
    pub name: String,
    /// What was typed, before normalisation (set only).
    pub input: Option<String>,
    /// The value stored in the scope before, exactly as stored; null = not set.
    pub old: Option<String>,
    /// The value stored after; null = not set (reset).
    pub new: Option<String>,
    /// Nothing to do: the scope already stores this.
    pub unchanged: bool,
    /// The statement pgconn sends (null when unchanged).
    pub sql: Option<String>,
    /// Takes effect only after a server restart (context postmaster).
    pub restart_required: bool,
    /// For --system: what sessions get when postgresql.auto.conf does not set it (what `old: null`, and
    /// undoing to it, means).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_effect_without: Option<InEffect>,
    #[serde(skip)]
    pub old_display: String,
    #[serde(skip)]
    pub new_display: String,
}

/// A value in effect and where it comes from (`postgresql.conf line 12`, `default`).
#[derive(Debug, Clone, Serialize)]
pub struct InEffect {
    pub value: String,
    pub source: String,
}

/// A plan and, once applied, what happened.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// set, reset or undo.
    pub action: &'static str,
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub server_version: String,
    pub scope: Scope,
    /// The scope for people, as the plan's header says it: `the whole server (ALTER SYSTEM)`, or on a
    /// managed platform `the whole server, through the provider (nothing applied here)`
    /// ([`Scope::label_on`]).
    pub scope_label: String,
    pub dry_run: bool,
    pub applied: bool,
    pub changes: Vec<TuneChange>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// For undo: the history entry being undone.
    pub undoes: Option<String>,
    pub history_file: Option<String>,
    pub history_id: Option<String>,
    pub outcome: Option<ApplyOutcome>,
    /// `--system` on a managed platform (strong evidence or `--platform`): the platform, whose commands
    /// below are printed instead of ALTER SYSTEM (nothing is sent that changes the server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<crate::report::platform::Platform>,
    /// The provider's command sequence (`--system` on a managed platform), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provider_commands: Vec<ProviderCommand>,
}

/// One step of a managed platform's command sequence: run in order; `why` says when it applies (RDS's
/// `default.` parameter-group branch) and what it does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderCommand {
    pub step: usize,
    pub command: String,
    pub why: String,
}

impl ChangeReport {
    pub fn pending(&self) -> impl Iterator<Item = &TuneChange> {
        self.changes.iter().filter(|c| !c.unchanged)
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ApplyOutcome {
    /// Database / role settings reach only sessions that connect after the change.
    pub new_sessions_only: bool,
    /// Sessions in the scope connected before the change: they keep their old values.
    pub sessions_with_old_value: Option<i64>,
    /// Sessions in the scope whose start time this role cannot see (no pg_read_all_stats).
    pub sessions_not_visible: Option<i64>,
    /// System scope: pg_reload_conf() was called and this session saw the reload.
    pub reloaded: Option<bool>,
    /// System scope: per setting, whether it took effect.
    pub effects: Vec<Effect>,
    /// A database's or role's CONNECTION LIMIT was changed: the limit and the sessions it holds now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_limit: Option<LimitOutcome>,
    pub next_steps: Vec<String>,
}

/// After a CONNECTION LIMIT change: sessions above the limit are not ended, the server refuses new ones.
#[derive(Debug, Clone, Serialize)]
pub struct LimitOutcome {
    pub limit: i32,
    /// Client sessions of the role / in the database now, pgconn's own included when it is one of them.
    pub sessions: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    pub name: String,
    /// applied, pending_restart, reloaded (this session has its own value and cannot see it),
    /// not_applied or not_reloaded.
    pub status: &'static str,
    /// The value the server runs with now.
    pub running_value: String,
    pub pending_restart: bool,
}

#[derive(Debug, Serialize)]
pub struct HistoryReport {
    pub history_file: String,
    pub entries: Vec<Listed>,
    /// Lines of the file that could not be read (skipped).
    pub skipped_lines: usize,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, Serialize)]
pub struct PresetsReport {
    pub presets: Vec<Preset>,
}

/// Which server a change was made on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerRecord {
    /// `host:port/dbname` as pgconn prints it.
    pub target: String,
    /// pg_control_system().system_identifier when readable: the same cluster whatever the address.
    pub system_identifier: Option<String>,
    /// How pgconn reached it (host, port, database, user; never a password).
    pub connection: Value,
}

impl ServerRecord {
    /// Whether two records name the same server: by system identifier when both have it, otherwise by
    /// host and port.
    pub fn same_server(&self, other: &ServerRecord) -> bool {
        if let (Some(a), Some(b)) = (&self.system_identifier, &other.system_identifier) {
            return a == b;
        }
        let key = |v: &Value, k: &str| v.get(k).map(|x| x.to_string());
        key(&self.connection, "host") == key(&other.connection, "host")
            && key(&self.connection, "port") == key(&other.connection, "port")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangeRecord {
    pub name: String,
    /// Stored in the scope before the change; None = not set.
    pub old: Option<String>,
    /// Stored after the change; None = not set (reset).
    pub new: Option<String>,
    /// For --system, when `old` is not set: the value that was in effect from the other configuration
    /// files (or the default), e.g. `1min (postgresql.conf line 12)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_in_effect: Option<String>,
}

/// One applied (or attempted) tune change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// set, reset or undo.
    pub action: String,
    pub server: ServerRecord,
    pub scope: Scope,
    pub changes: Vec<ChangeRecord>,
    /// For undo: the id of the entry it restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
}

/// An entry with what later lines say about it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub entry: Entry,
    /// applied, failed or undone.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A line of the history that could not be read: skipped, kept in the file.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub settings: Vec<PresetSetting>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PresetSetting {
    pub name: &'static str,
    pub value: &'static str,
    /// First PostgreSQL version (server_version_num) that has the setting.
    pub since_version_num: i32,
    pub reason: &'static str,
}
