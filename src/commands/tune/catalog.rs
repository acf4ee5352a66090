//! What the server knows about its settings: pg_settings (type, unit, limits, context), the values stored
//! per database and role (pg_db_role_setting) and the configuration files (pg_file_settings), plus the
//! rules of which scope may set what.

use std::collections::BTreeMap;

use anyhow::Result;
use postgres::error::SqlState;
use postgres::types::Type;
use serde::Serialize;

use crate::db::{self, Db};
use crate::report::tune::{quoted, Scope};
use crate::setting::{Meta, VarType};

/// One row of pg_settings.
#[derive(Debug, Clone)]
pub struct Setting {
    /// Lower-case name (pg_settings has a few mixed-case ones, e.g. DateStyle).
    pub name: String,
    pub setting: String,
    pub unit: Option<String>,
    pub vartype: VarType,
    pub context: String,
    pub source: String,
    pub sourcefile: Option<String>,
    pub sourceline: Option<i32>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub enumvals: Vec<String>,
    pub boot_val: Option<String>,
    pub pending_restart: bool,
}

impl Setting {
    pub fn meta(&self) -> Meta {
        Meta {
            name: self.name.clone(),
            vartype: self.vartype,
            unit: self.unit.clone(),
            min: self.min,
            max: self.max,
            enumvals: self.enumvals.clone(),
        }
    }

    /// Only a restart changes it (pg_settings.context = postmaster).
    pub fn restart_required(&self) -> bool {
        self.context == "postmaster"
    }

    /// Whether this session's value was set for the session (connection options, database or role
    /// settings, SET), so that it hides the server-wide value.
    pub fn session_sourced(&self) -> bool {
        matches!(
            self.source.as_str(),
            "client" | "database" | "user" | "database user" | "session" | "interactive" | "test"
        )
    }
}

/// All settings of the server, by lower-case name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub settings: BTreeMap<String, Setting>,
}

impl Catalog {
    pub fn load(db: &mut Db) -> Result<Catalog> {
        let rows = db.query(include_str!("../../sql/tune_settings.sql"), &[])?;
        let mut settings = BTreeMap::new();
        for r in rows {
            let num = |col: &str| -> Result<Option<f64>> {
                Ok(r.try_get::<_, Option<String>>(col)?
                    .and_then(|s| s.trim().parse::<f64>().ok()))
            };
            let s = Setting {
                name: r.try_get("name")?,
                setting: r
                    .try_get::<_, Option<String>>("setting")?
                    .unwrap_or_default(),
                unit: r.try_get("unit")?,
                vartype: VarType::parse(&r.try_get::<_, String>("vartype")?),
                context: r.try_get("context")?,
                source: r
                    .try_get::<_, Option<String>>("source")?
                    .unwrap_or_default(),
                sourcefile: r.try_get("sourcefile")?,
                sourceline: r.try_get("sourceline")?,
                min: num("min_val")?,
                max: num("max_val")?,
                enumvals: r
                    .try_get::<_, Option<Vec<String>>>("enumvals")?
                    .unwrap_or_default(),
                boot_val: r.try_get("boot_val")?,
                pending_restart: r
                    .try_get::<_, Option<bool>>("pending_restart")?
                    .unwrap_or(false),
            };
            settings.insert(s.name.clone(), s);
        }
        Ok(Catalog { settings })
    }

    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.get(&name.to_ascii_lowercase())
    }

    /// Up to three known names close to a mistyped one.
    pub fn similar(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, &String)> = self
            .settings
            .keys()
            .map(|k| (strsim::levenshtein(&name, k), k))
            .filter(|(d, k)| *d <= 3.max(name.len() / 4) || k.contains(&name))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, k)| k.clone()).collect()
    }
}

impl Scope {
    /// Whether a setting of this pg_settings.context may be set in this scope; the reason when not.
    pub fn allows(&self, s: &Setting) -> Result<(), String> {
        let name = &s.name;
        match (self, s.context.as_str()) {
            (_, "internal") => Err(format!(
                "{name} is read-only: it is fixed when PostgreSQL is built or initialised (context internal)"
            )),
            (Scope::System, _) => Ok(()),
            (_, "user" | "superuser") => Ok(()),
            (_, "postmaster") => Err(format!(
                "{name} only changes with a server restart, so it can only be set for the whole server: \
                 use --system (then restart PostgreSQL)"
            )),
            (_, "sighup") => Err(format!(
                "{name} can only be set for the whole server (configuration file or ALTER SYSTEM, context \
                 sighup): use --system"
            )),
            (_, "backend" | "superuser-backend") => Err(format!(
                "{name} can only be set for the whole server or by a client when it connects (context {}): \
                 use --system",
                s.context
            )),
            (_, other) => Err(format!(
                "{name} cannot be set per database or role (context {other}): use --system"
            )),
        }
    }
}

/// One value stored by ALTER DATABASE / ALTER ROLE ... SET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    pub database: Option<String>,
    pub role: Option<String>,
    pub name: String,
    pub value: String,
}

impl Stored {
    /// Which layer this is, in the words `tune show` uses for a source.
    pub fn source(&self) -> &'static str {
        match (&self.database, &self.role) {
            (Some(_), Some(_)) => "role_in_database",
            (None, Some(_)) => "role",
            (Some(_), None) => "database",
            (None, None) => "all_roles",
        }
    }

    pub fn label(&self) -> String {
        match (&self.database, &self.role) {
            (Some(d), Some(r)) => format!("role {} in database {}", quoted(r), quoted(d)),
            (None, Some(r)) => format!("role {}", quoted(r)),
            (Some(d), None) => format!("database {}", quoted(d)),
            (None, None) => "all roles (ALTER ROLE ALL)".into(),
        }
    }
}

pub fn role_settings(db: &mut Db) -> Result<Vec<Stored>> {
    let rows = db.query(include_str!("../../sql/tune_role_settings.sql"), &[])?;
    rows.iter()
        .map(|r| {
            Ok(Stored {
                database: r.try_get("database")?,
                role: r.try_get("role")?,
                name: r.try_get("name")?,
                value: r.try_get("value")?,
            })
        })
        .collect()
}

/// One entry of a configuration file.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub sourcefile: String,
    pub sourceline: Option<i32>,
    pub name: String,
    pub setting: Option<String>,
    pub applied: bool,
    pub error: Option<String>,
    pub auto_conf: bool,
}

impl FileEntry {
    /// The file's name without its directory (`postgresql.auto.conf`).
    pub fn file_name(&self) -> &str {
        self.sourcefile
            .rsplit('/')
            .next()
            .unwrap_or(&self.sourcefile)
    }

    /// The last entry with a value for `name` among `files`, of those `keep` accepts: what the server
    /// reads (later entries win).
    pub fn last<'a>(
        files: &'a [FileEntry],
        name: &str,
        keep: impl Fn(&FileEntry) -> bool,
    ) -> Option<&'a FileEntry> {
        files
            .iter()
            .rev()
            .find(|e| e.name == name && e.setting.is_some() && keep(e))
    }
}

/// pg_file_settings, or None when this role may not read it (superusers only by default): known from
/// the facts, so no statement is sent only to fail; a refusal all the same still means None.
pub fn file_settings(db: &mut Db) -> Result<Option<Vec<FileEntry>>> {
    if !db.facts()?.can_read_file_settings {
        return Ok(None);
    }
    match db.query(include_str!("../../sql/tune_file_settings.sql"), &[]) {
        Ok(rows) => Ok(Some(
            rows.iter()
                .map(|r| {
                    Ok(FileEntry {
                        sourcefile: r.try_get("sourcefile")?,
                        sourceline: r.try_get("sourceline")?,
                        name: r.try_get("name")?,
                        setting: r.try_get("setting")?,
                        applied: r.try_get::<_, Option<bool>>("applied")?.unwrap_or(false),
                        error: r.try_get("error")?,
                        auto_conf: r.try_get("auto_conf")?,
                    })
                })
                .collect::<Result<_>>()?,
        )),
        Err(e) if db::sqlstate(&e) == Some(SqlState::INSUFFICIENT_PRIVILEGE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What ALTER SYSTEM has stored in postgresql.auto.conf, name → value (the last entry wins).
#[derive(Debug, Clone)]
pub struct AutoConf {
    pub values: BTreeMap<String, String>,
}

impl AutoConf {
    pub fn from_files(entries: &[FileEntry]) -> AutoConf {
        let mut values = BTreeMap::new();
        for e in entries.iter().filter(|e| e.auto_conf) {
            if let Some(v) = &e.setting {
                values.insert(e.name.clone(), v.clone());
            }
        }
        AutoConf { values }
    }
}

/// Whether the database and role a scope names exist; the error for the first that does not.
pub fn check_target(db: &mut Db, scope: &Scope) -> Result<()> {
    let (d, r) = (scope.database(), scope.role());
    if d.is_none() && r.is_none() {
        return Ok(());
    }
    let row = db.query_one(
        include_str!("../../sql/tune_target.sql"),
        &[(&d, Type::TEXT), (&r, Type::TEXT)],
    )?;
    if !row.try_get::<_, bool>("database_exists")? {
        return Err(crate::exit::refuse(format!(
            "database {} does not exist on this server",
            quoted(d.unwrap_or_default())
        )));
    }
    if !row.try_get::<_, bool>("role_exists")? {
        return Err(crate::exit::refuse(format!(
            "role {} does not exist on this server",
            quoted(r.unwrap_or_default())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, context: &str) -> Setting {
        Setting {
            name: name.into(),
            setting: "0".into(),
            unit: None,
            vartype: VarType::Integer,
            context: context.into(),
            source: "default".into(),
            sourcefile: None,
            sourceline: None,
            min: None,
            max: None,
            enumvals: vec![],
            boot_val: None,
            pending_restart: false,
        }
    }

    #[test]
    fn scopes_follow_the_settings_context() {
        let db = Scope::Database {
            database: "app".into(),
        };
        let role = Scope::Role { role: "web".into() };
        assert!(db.allows(&setting("statement_timeout", "user")).is_ok());
        assert!(role
            .allows(&setting("log_min_duration_statement", "superuser"))
            .is_ok());
        let e = db
            .allows(&setting("max_connections", "postmaster"))
            .unwrap_err();
        assert!(e.contains("--system") && e.contains("restart"));
        assert!(role.allows(&setting("log_checkpoints", "sighup")).is_err());
        assert!(db
            .allows(&setting("log_connections", "superuser-backend"))
            .is_err());
        assert!(Scope::System
            .allows(&setting("max_connections", "postmaster"))
            .is_ok());
        assert!(Scope::System
            .allows(&setting("block_size", "internal"))
            .is_err());
    }

    #[test]
    fn scope_from_flags_and_labels() {
        assert_eq!(Scope::from_parts(None, None, false), None);
        assert_eq!(Scope::from_parts(None, None, true), Some(Scope::System));
        let s = Scope::from_parts(Some("a\"b"), Some("r"), false).unwrap();
        assert_eq!(s.kind(), "role_in_database");
        assert_eq!(s.label(), "role \"r\" in database \"a\"\"b\"");
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"kind": "role_in_database", "role": "r", "database": "a\"b"})
        );
    }

    #[test]
    fn mistyped_names_get_suggestions() {
        let mut c = Catalog::default();
        for n in ["statement_timeout", "lock_timeout", "max_connections"] {
            c.settings.insert(n.into(), setting(n, "user"));
        }
        assert_eq!(c.similar("statment_timeout")[0], "statement_timeout");
        assert!(c.similar("zzzzzzzzzzzzzzzzz").is_empty());
    }
}
