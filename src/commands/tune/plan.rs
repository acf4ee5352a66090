//! `tune set`, `tune reset` and `tune undo` up to the plan: validate everything before anything is
//! sent, read what each scope stores now, and build the plan (old → new with the exact, server-quoted
//! SQL). [`super::apply`] carries it out.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use postgres::error::SqlState;
use postgres::types::Type;

use super::catalog::{self, AutoConf, Catalog, Stored};
use super::history::{self};
use super::limit;
use super::quote::{self, Op};
use super::startup;
use super::CONNECTION_SETTINGS;
use crate::db::Db;
use crate::report::platform::Platform;
use crate::report::tune::{quoted, Scope};
use crate::report::tune::{ChangeReport, InEffect, TuneChange};
use crate::report::tune::{Entry, ServerRecord};
use crate::setting::{self, Meta};

/// What a plan should reach for one setting.
#[derive(Debug, Clone)]
pub struct Desired {
    pub name: String,
    pub input: Option<String>,
    /// None = not set.
    pub new: Option<String>,
}

/// Facts gathered while planning that applying needs.
pub struct Context {
    pub catalog: Catalog,
    pub server: ServerRecord,
    pub guard: Option<Guard>,
}

/// What pgconn checks before ALTER SYSTEM.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    pub allow_alter_system: Option<String>,
    pub managed: Option<String>,
    pub data_directory: Option<String>,
    pub conf_load_time: Option<String>,
}

impl Guard {
    fn load(db: &mut Db) -> Result<Guard> {
        let r = db.query_one(include_str!("../../sql/tune_system_guard.sql"), &[])?;
        Ok(Guard {
            allow_alter_system: r.try_get("allow_alter_system")?,
            managed: r.try_get("managed_markers")?,
            data_directory: r.try_get("data_directory")?,
            conf_load_time: r.try_get("conf_load_time")?,
        })
    }

    /// A provider's name from the settings prefixes it adds.
    pub(super) fn provider(&self) -> Option<&'static str> {
        let m = self.managed.as_deref()?;
        let has = |p: &str| m.split(',').any(|x| x == p);
        Some(if has("rds") || has("aurora") {
            "Amazon RDS / Aurora: change it in the DB parameter group (then reboot for restart-only settings)"
        } else if has("cloudsql") || has("alloydb") {
            "Google Cloud SQL / AlloyDB: change it with database flags (gcloud sql instances patch --database-flags)"
        } else if has("azure") || has("pgaudit_azure") {
            "Azure Database for PostgreSQL: change it in the server parameters"
        } else {
            "a managed service: change it in the provider's parameter settings"
        })
    }
}

/// The server's identity for the history: system identifier when readable, and the connection (no secrets).
/// pg_control_system() may be kept from a role (SQLSTATE 42501): the history then names the server by its
/// address alone, which is how entries written without the identifier are matched anyway, so that is no
/// reason to stop. Any other error (the control file unreadable, the connection gone) is: an entry that
/// silently lost the identifier would be matched to another server behind the same address.
pub fn server_record(db: &mut Db) -> Result<ServerRecord> {
    let system_identifier = match db
        .query(include_str!("../../sql/tune_system_identifier.sql"), &[])
    {
        Ok(rows) => match rows.first() {
            Some(r) => r.try_get::<_, Option<String>>("system_identifier")?,
            None => None,
        },
        Err(e) if crate::db::sqlstate(&e) == Some(SqlState::INSUFFICIENT_PRIVILEGE) => None,
        Err(e) => return Err(e.context(
            "could not read the server's system identifier, which names it in the tune history; \
                 nothing was changed",
        )),
    };
    let connection = serde_json::to_value(db.identity())
        .map(history::scrub)
        .unwrap_or(serde_json::Value::Null);
    Ok(ServerRecord {
        target: db.target_label(),
        system_identifier,
        connection,
    })
}

/// Whether two stored values (None: nothing stored) are the same setting, by the setting's own
/// comparison when pgconn knows it (units, case, lists), else as text.
fn stores_same(meta: Option<&Meta>, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => match meta {
            Some(m) => setting::same_value(m, a, b),
            None => a == b,
        },
        _ => false,
    }
}

/// Why a name cannot be used on this server.
fn unknown_setting(cat: &Catalog, name: &str, version_num: i32, version: &str) -> String {
    let version = version.split_whitespace().next().unwrap_or(version);
    if let Some((_, since)) = CONNECTION_SETTINGS.iter().find(|(n, _)| *n == name) {
        if version_num < *since {
            return format!(
                "{name} does not exist on PostgreSQL {version}: it was added in PostgreSQL {}",
                since / 10000
            );
        }
    }
    let similar = cat.similar(name);
    if similar.is_empty() {
        format!("unknown setting {name:?} on this server (PostgreSQL {version})")
    } else {
        format!(
            "unknown setting {name:?} on this server (PostgreSQL {version}); did you mean {}?",
            similar.join(", ")
        )
    }
}

/// Validate `tune set` pairs against pg_settings: existence, scope, value, range. All problems at once.
pub fn validate_set(
    cat: &Catalog,
    scope: &Scope,
    pairs: &[(String, String)],
    version_num: i32,
    version: &str,
) -> std::result::Result<Vec<Desired>, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (name, input) in pairs {
        if limit::is(name) {
            match limit::scope_allows(scope).and_then(|()| limit::parse(scope, input)) {
                Ok(n) => out.push(Desired {
                    name: limit::NAME.into(),
                    input: Some(input.clone()),
                    new: Some(n.to_string()),
                }),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let Some(s) = cat.get(name) else {
            errors.push(unknown_setting(cat, name, version_num, version));
            continue;
        };
        if let Err(e) = scope.allows(s) {
            errors.push(e);
            continue;
        }
        match setting::normalise(&s.meta(), input) {
            Ok(n) => out.push(Desired {
                name: s.name.clone(),
                input: Some(input.clone()),
                new: Some(n.value),
            }),
            Err(e) => errors.push(e.0),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Validate `tune reset` names: known here or stored in the scope, and settable in the scope.
fn validate_reset(
    cat: &Catalog,
    scope: &Scope,
    names: &[String],
    stored: &BTreeMap<String, String>,
    version_num: i32,
    version: &str,
) -> std::result::Result<Vec<Desired>, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        if limit::is(&name) {
            // A limit is never "not set": resetting it is setting PostgreSQL's default, -1 (no limit).
            match limit::scope_allows(scope) {
                Ok(()) => out.push(Desired {
                    name,
                    input: None,
                    new: Some("-1".into()),
                }),
                Err(e) => errors.push(e),
            }
            continue;
        }
        match cat.get(&name) {
            Some(s) => {
                if let Err(e) = scope.allows(s) {
                    errors.push(e);
                    continue;
                }
            }
            None if stored.contains_key(&name) => {}
            None => {
                errors.push(unknown_setting(cat, &name, version_num, version));
                continue;
            }
        }
        out.push(Desired {
            name,
            input: None,
            new: None,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// For --system: refuse a plan after which the server would not start again (see [`startup`]), over
/// the values of its next start.
fn check_start_rules(
    db: &mut Db,
    scope: &Scope,
    desired: &[Desired],
    now: &StoredNow,
    cat: &Catalog,
) -> Result<()> {
    if *scope != Scope::System {
        return Ok(());
    }
    let errors = startup::check(cat, &now.files, desired, db.facts()?.version_num);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(refuse_all(errors))
    }
}

fn refuse_all(errors: Vec<String>) -> anyhow::Error {
    crate::exit::refuse(format!(
        "nothing was changed:\n  - {}",
        errors.join("\n  - ")
    ))
}

/// What a scope stores now.
pub(super) struct StoredNow {
    /// Name → exact text stored in the scope (for --system: in postgresql.auto.conf).
    pub values: BTreeMap<String, String>,
    /// Every database / role setting of the server.
    pub all: Vec<Stored>,
    /// For --system: the configuration files' entries (to tell what lies beneath postgresql.auto.conf).
    pub files: Vec<catalog::FileEntry>,
    /// When the plan touches `connection_limit`: the database's or role's limit (also in `values`, as
    /// text), its sessions and the facts of who may change it.
    pub limit: Option<limit::Target>,
}

/// For --system: the value sessions get when postgresql.auto.conf does not set `name` (the last valid
/// entry of the other configuration files, else the built-in default), and where it comes from.
pub(super) fn beneath_auto_conf(
    files: &[catalog::FileEntry],
    cat: &Catalog,
    name: &str,
) -> Option<(String, String)> {
    // A server command-line option (postgres -c) beats every configuration file.
    if let Some(s) = cat.get(name).filter(|s| s.source == "command line") {
        return Some((s.setting.clone(), "the server's command line".into()));
    }
    let from_file = catalog::FileEntry::last(files, name, |e| !e.auto_conf && e.error.is_none());
    if let Some(e) = from_file {
        let file = e.file_name();
        let source = match e.sourceline {
            Some(l) => format!("{file} line {l}"),
            None => file.to_string(),
        };
        return Some((e.setting.clone().unwrap_or_default(), source));
    }
    cat.get(name)
        .and_then(|s| s.boot_val.clone())
        .map(|v| (v, "default".to_string()))
}

/// What the scope stores now; with `with_limit`, its connection limit too (`connection_limit`, a database
/// or role scope only).
pub(super) fn stored_now(db: &mut Db, scope: &Scope, with_limit: bool) -> Result<StoredNow> {
    let all = catalog::role_settings(db)?;
    if *scope != Scope::System {
        let mut values: BTreeMap<String, String> = all
            .iter()
            .filter(|s| {
                s.database.as_deref() == scope.database() && s.role.as_deref() == scope.role()
            })
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect();
        let limit = if with_limit {
            limit::Target::load(db, scope)?
        } else {
            None
        };
        if let Some(t) = &limit {
            values.insert(limit::NAME.into(), t.limit.to_string());
        }
        return Ok(StoredNow {
            values,
            all,
            files: Vec::new(),
            limit,
        });
    }
    let (auto, files) = match catalog::file_settings(db)? {
        Some(files) => (AutoConf::from_files(&files), files),
        // A managed platform keeps its settings outside postgresql.auto.conf, and pgconn changes
        // nothing there: no role may read pg_file_settings, and nothing needs to be undone.
        None if managed_system(db, scope)?.is_some() => (AutoConf::from_files(&[]), Vec::new()),
        None => {
            return Err(anyhow!(
                "cannot read what ALTER SYSTEM has stored in postgresql.auto.conf: pg_file_settings needs a \
                 superuser (or `GRANT SELECT ON pg_file_settings TO {0}; GRANT EXECUTE ON FUNCTION \
                 pg_show_all_file_settings() TO {0};`). Without it the change could not be undone exactly, so \
                 nothing was changed",
                quote::ident(&db.facts()?.current_user)
            ))
        }
    };
    Ok(StoredNow {
        values: auto.values,
        all,
        files,
        limit: None,
    })
}

/// For --system, "not set" in postgresql.auto.conf means the value beneath it: `1min (postgresql.conf
/// line 12)` or `0 (default)`.
fn display_in_scope(
    meta: Option<&Meta>,
    v: Option<&str>,
    beneath: Option<&(String, String)>,
) -> String {
    match (v, beneath) {
        (None, Some((value, source))) => {
            format!("{} ({source})", display_or_not_set(meta, Some(value)))
        }
        _ => display_or_not_set(meta, v),
    }
}

/// A stored value for people, by its setting's rules (a connection limit by [`limit::display`]).
fn shown(name: &str, meta: Option<&Meta>, v: Option<&str>) -> String {
    match v {
        Some(v) if limit::is(name) => limit::display(v),
        _ => display_or_not_set(meta, v),
    }
}

fn display_or_not_set(meta: Option<&Meta>, v: Option<&str>) -> String {
    match (v, meta) {
        (None, _) => "not set".into(),
        (Some(v), Some(m)) => setting::display(m, v),
        (Some(v), None) => v.to_string(),
    }
}

/// Turn desired values into a plan: old values, no-ops, server-quoted SQL, notes.
#[allow(clippy::too_many_arguments)]
fn build_plan(
    db: &mut Db,
    action: &'static str,
    scope: &Scope,
    desired: Vec<Desired>,
    now: &StoredNow,
    cat: &Catalog,
    mut notes: Vec<String>,
) -> Result<ChangeReport> {
    let (stored, all) = (&now.values, now.all.as_slice());
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    // On a managed platform --system sends no statement (the provider's commands replace it), nothing
    // is asked of the server to quote one, and what postgresql.auto.conf stores says nothing of the
    // provider's parameters: every change is printed.
    let platform = managed_system(db, scope)?;
    for d in desired {
        let setting = cat.get(&d.name);
        let meta = setting.map(|s| s.meta());
        let old = stored.get(&d.name).cloned();
        let beneath = if *scope == Scope::System {
            beneath_auto_conf(&now.files, cat, &d.name)
        } else {
            None
        };
        let unchanged =
            platform.is_none() && stores_same(meta.as_ref(), old.as_deref(), d.new.as_deref());
        if limit::is(&d.name) {
            if let (false, Some(t), Some(new)) = (
                unchanged,
                &now.limit,
                d.new.as_deref().and_then(|v| v.parse::<i32>().ok()),
            ) {
                let facts = db.facts()?;
                warnings.extend(limit::warnings(
                    t,
                    new,
                    &limit::Me::of(facts),
                    &facts.database,
                ));
            }
            changes.push(TuneChange {
                old_display: shown(&d.name, None, old.as_deref()),
                new_display: shown(&d.name, None, d.new.as_deref()),
                in_effect_without: None,
                restart_required: false,
                name: d.name,
                input: d.input,
                old,
                new: d.new,
                unchanged,
                sql: None,
            });
            continue;
        }
        if !unchanged
            && *scope == Scope::System
            && setting.is_some_and(|s| s.source == "command line")
        {
            warnings.push(format!(
                "{} is set on the server's command line (postgres -c ...), which overrides \
                 postgresql.auto.conf: this change will not take effect until that option is removed",
                d.name
            ));
        }
        if !unchanged {
            if let (Some(input), Some(v), Some(m)) = (d.input.as_deref(), d.new.as_deref(), &meta) {
                warnings.extend(bare_number_warning(&d.name, input, v, m));
            }
            if let Some(v) = d.new.as_deref() {
                warnings.extend(setting_warnings(&d.name, v, meta.as_ref(), scope));
                notes.extend(overridden_by(all, scope, &d.name, meta.as_ref()));
            }
        }
        changes.push(TuneChange {
            old_display: display_in_scope(meta.as_ref(), old.as_deref(), beneath.as_ref()),
            new_display: display_in_scope(meta.as_ref(), d.new.as_deref(), beneath.as_ref()),
            in_effect_without: beneath.map(|(value, source)| InEffect { value, source }),
            restart_required: setting.is_some_and(|s| s.restart_required()),
            name: d.name,
            input: d.input,
            old,
            new: d.new,
            unchanged,
            sql: None,
        });
    }
    // The statements of every change, quoted by the server in one round trip.
    let ops: Vec<(&str, Op)> = changes
        .iter()
        .filter(|c| !c.unchanged)
        .map(|c| Ok((c.name.as_str(), op_of(c)?)))
        .collect::<Result<_>>()?;
    if platform.is_none() {
        let built = quote::build_all(db, scope, &ops)?;
        for (c, sql) in changes.iter_mut().filter(|c| !c.unchanged).zip(built) {
            c.sql = Some(sql);
        }
    }
    Ok(ChangeReport {
        action,
        target: db.target_label(),
        connection: db.route().clone(),
        server_version: db.facts()?.version.clone(),
        scope: scope.clone(),
        scope_label: scope.label_on(platform),
        dry_run: false,
        applied: false,
        changes,
        notes,
        warnings,
        undoes: None,
        history_file: None,
        history_id: None,
        outcome: None,
        platform,
        provider_commands: Vec::new(),
    })
}

/// What the statement of a change does: set, reset, or a connection limit (always a number).
fn op_of(c: &TuneChange) -> Result<Op<'_>> {
    Ok(match &c.new {
        Some(v) if limit::is(&c.name) => Op::ConnLimit(
            v.parse()
                .map_err(|_| anyhow!("pgconn bug: connection limit {v:?} is not a number"))?,
        ),
        None if limit::is(&c.name) => {
            return Err(anyhow!("pgconn bug: a connection limit cannot be removed"))
        }
        Some(v) => Op::set(&c.name, v),
        None => Op::Reset,
    })
}

/// A bare number is in the setting's own unit, as PostgreSQL reads it (`statement_timeout=300` is 300 ms):
/// say so when that makes a timeout shorter than a second, the likely slip for "300 seconds".
fn bare_number_warning(name: &str, input: &str, v: &str, meta: &Meta) -> Option<String> {
    let t = input.trim();
    if t.parse::<f64>().is_err() || meta.unit.as_deref() != Some("ms") {
        return None;
    }
    let ms = setting::base_of(meta, v)?;
    (ms > 0.0 && ms < 1000.0).then(|| {
        format!(
            "{name}={t} means {t}ms: a bare number is in the setting's unit (ms), so this timeout is under \
             one second; for {t} seconds write {t}s"
        )
    })
}

/// Warnings about a value's known side effects.
fn setting_warnings(name: &str, v: &str, meta: Option<&Meta>, scope: &Scope) -> Vec<String> {
    let base = meta.and_then(|m| setting::base_of(m, v)).unwrap_or(0.0);
    let mut w = Vec::new();
    if name == "idle_session_timeout" && base > 0.0 {
        w.push(format!(
            "idle_session_timeout {v} drops connections that pools keep idle: applications with a \
             connection pool will see errors unless a pooler (e.g. PgBouncer) sits in front{}",
            if *scope == Scope::System {
                "; consider --role or --database for the clients that do not pool"
            } else {
                ""
            }
        ));
    }
    if name == "statement_timeout" && base > 0.0 && *scope == Scope::System {
        w.push(format!(
            "statement_timeout {v} for the whole server also cancels maintenance, migrations and long \
             reports; --database or --role limits it to the applications"
        ));
    }
    w
}

/// Database / role settings that keep their own value over this scope's.
fn overridden_by(all: &[Stored], scope: &Scope, name: &str, meta: Option<&Meta>) -> Vec<String> {
    let beats = |s: &Stored| -> bool {
        match scope {
            Scope::System => true,
            Scope::Database { database } => {
                s.role.is_some()
                    && (s.database.is_none() || s.database.as_deref() == Some(database.as_str()))
            }
            Scope::Role { role } => {
                s.database.is_some() && s.role.as_deref() == Some(role.as_str())
            }
            Scope::RoleInDatabase { .. } => false,
        }
    };
    let hits: Vec<&Stored> = all.iter().filter(|s| s.name == name && beats(s)).collect();
    let mut out: Vec<String> = hits
        .iter()
        .take(5)
        .map(|s| {
            format!(
                "{} has its own {name} ({}): its sessions keep that",
                s.label(),
                display_or_not_set(meta, Some(&s.value))
            )
        })
        .collect();
    if hits.len() > 5 {
        out.push(format!(
            "... and {} more database / role settings of {name}",
            hits.len() - 5
        ));
    }
    out
}

/// Plan `tune set`.
pub fn plan_set(
    db: &mut Db,
    scope: &Scope,
    pairs: Vec<(String, String)>,
    notes: Vec<String>,
) -> Result<(ChangeReport, Context)> {
    let cat = Catalog::load(db)?;
    let desired = validate_set(
        &cat,
        scope,
        &pairs,
        db.facts()?.version_num,
        &db.facts()?.version,
    )
    .map_err(refuse_all)?;
    catalog::check_target(db, scope)?;
    let (guard, now) = scope_now(db, scope, desired.iter().map(|d| d.name.as_str()), &cat)?;
    let server = server_record(db)?;
    planned(db, "set", scope, desired, &now, cat, notes, server, guard)
}

/// Plan `tune reset` (names, or every connection setting stored in the scope).
pub fn plan_reset(
    db: &mut Db,
    scope: &Scope,
    names: &[String],
    all_connection: bool,
) -> Result<(ChangeReport, Context)> {
    let cat = Catalog::load(db)?;
    catalog::check_target(db, scope)?;
    let guard_names: Vec<String> = if all_connection {
        CONNECTION_SETTINGS
            .iter()
            .filter(|(n, _)| cat.get(n).is_some())
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .filter(|n| cat.get(n).is_some() || limit::is(n))
            .collect()
    };
    let (guard, now) = scope_now(db, scope, guard_names.iter().map(String::as_str), &cat)?;
    let stored = &now.values;
    let mut notes = Vec::new();
    let names: Vec<String> = if all_connection {
        let picked: Vec<String> = CONNECTION_SETTINGS
            .iter()
            .map(|(n, _)| n.to_string())
            .filter(|n| stored.contains_key(n))
            .collect();
        let others: Vec<&String> = stored
            .keys()
            .filter(|k| !CONNECTION_SETTINGS.iter().any(|(n, _)| n == k))
            .collect();
        if !others.is_empty() {
            notes.push(format!(
                "--all resets connection settings only; {} also stores {} (name them to reset them)",
                scope.label(),
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        picked
    } else {
        names.to_vec()
    };
    let desired = validate_reset(
        &cat,
        scope,
        &names,
        stored,
        db.facts()?.version_num,
        &db.facts()?.version,
    )
    .map_err(refuse_all)?;
    if desired.iter().any(|d| limit::is(&d.name)) {
        notes.push(format!(
            "a connection limit is not a stored setting that can be removed: resetting connection_limit \
             sets {}'s limit to -1, no limit (PostgreSQL's default)",
            scope.label()
        ));
    }
    let server = server_record(db)?;
    planned(db, "reset", scope, desired, &now, cat, notes, server, guard)
}

/// Plan `tune undo` of a history entry: put back each old value exactly (or remove it when it was not set).
/// When the scope no longer stores what pgconn set (someone changed it since), undo refuses, naming both
/// values, unless `force`. The stored value is compared, not the running one: for --system that is
/// postgresql.auto.conf, which for a restart-only setting differs from the running value until the restart.
/// `server` is the record the entry was chosen by (the history names servers by it).
pub fn plan_undo(
    db: &mut Db,
    entry: &Entry,
    server: ServerRecord,
    force: bool,
) -> Result<(ChangeReport, Context)> {
    let scope = &entry.scope;
    let cat = Catalog::load(db)?;
    catalog::check_target(db, scope)?;
    let mut errors = Vec::new();
    for c in &entry.changes {
        if limit::is(&c.name) {
            if let Err(e) = limit::scope_allows(scope) {
                errors.push(e);
            }
        } else if let Some(s) = cat.get(&c.name) {
            if let Err(e) = scope.allows(s) {
                errors.push(e);
            }
        } else if c.old.is_some() {
            errors.push(unknown_setting(
                &cat,
                &c.name,
                db.facts()?.version_num,
                &db.facts()?.version,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(refuse_all(errors));
    }
    let names: Vec<String> = entry.changes.iter().map(|c| c.name.clone()).collect();
    let (guard, stored_now) = scope_now(db, scope, names.iter().map(String::as_str), &cat)?;
    let mut moved = Vec::new();
    for c in &entry.changes {
        let now = stored_now.values.get(&c.name);
        let meta = cat.get(&c.name).map(|s| s.meta());
        let same = stores_same(meta.as_ref(), now.map(String::as_str), c.new.as_deref());
        if !same {
            moved.push(format!(
                "{}: pgconn set {}, {} stores {} now; undo would put back {}",
                c.name,
                shown(&c.name, meta.as_ref(), c.new.as_deref()),
                scope.label(),
                shown(&c.name, meta.as_ref(), now.map(String::as_str)),
                shown(&c.name, meta.as_ref(), c.old.as_deref()),
            ));
        }
    }
    if !moved.is_empty() && !force {
        return Err(crate::exit::refuse(format!(
            "not undoing {}: changed since pgconn made it ({}). Nothing was changed; `pgconn tune undo \
             --force` replaces the current value anyway",
            entry.id,
            moved.join("; ")
        )));
    }
    let notes: Vec<String> = moved.into_iter().map(|m| format!("--force: {m}")).collect();
    let desired: Vec<Desired> = entry
        .changes
        .iter()
        .rev()
        .map(|c| Desired {
            name: c.name.clone(),
            input: None,
            new: c.old.clone(),
        })
        .collect();
    let (mut report, ctx) = planned(
        db,
        "undo",
        scope,
        desired,
        &stored_now,
        cat,
        notes,
        server,
        guard,
    )?;
    report.undoes = Some(entry.id.clone());
    Ok((report, ctx))
}

/// What every plan reads once its settings are known: the guard of ALTER SYSTEM for them, and what the
/// scope stores now.
fn scope_now<'a>(
    db: &mut Db,
    scope: &Scope,
    names: impl Iterator<Item = &'a str>,
    cat: &Catalog,
) -> Result<(Option<Guard>, StoredNow)> {
    let names: Vec<&str> = names.collect();
    let with_limit = names.iter().any(|n| limit::is(n));
    let guard = system_guard(db, scope, names.into_iter(), cat)?;
    let now = stored_now(db, scope, with_limit)?;
    Ok((guard, now))
}

/// What every plan ends with: the server's start rules checked against the values it would have, the
/// report with the exact SQL, and what applying it needs.
#[allow(clippy::too_many_arguments)]
fn planned(
    db: &mut Db,
    action: &'static str,
    scope: &Scope,
    desired: Vec<Desired>,
    now: &StoredNow,
    cat: Catalog,
    notes: Vec<String>,
    server: ServerRecord,
    guard: Option<Guard>,
) -> Result<(ChangeReport, Context)> {
    check_start_rules(db, scope, &desired, now, &cat)?;
    check_limit_privilege(db, &desired, now)?;
    let report = build_plan(db, action, scope, desired, now, &cat, notes)?;
    Ok((
        report,
        Context {
            catalog: cat,
            server,
            guard,
        },
    ))
}

/// Before a connection limit changes: refuse, before anything is asked or recorded, what PostgreSQL
/// would refuse ([`limit::refusal`]); a missing privilege is a failure (exit 1, as for ALTER SYSTEM),
/// an invalid database a refusal.
fn check_limit_privilege(db: &mut Db, desired: &[Desired], now: &StoredNow) -> Result<()> {
    let Some(t) = &now.limit else { return Ok(()) };
    let changes = desired
        .iter()
        .any(|d| limit::is(&d.name) && d.new.as_deref() != Some(t.limit.to_string().as_str()));
    if !changes {
        return Ok(());
    }
    match limit::refusal(t, &limit::Me::of(db.facts()?)) {
        None => Ok(()),
        Some(r) => Err(r.into_error()),
    }
}

/// `--system` on a managed platform (strong evidence or `--platform`): pgconn prints the provider's
/// commands and sends nothing that changes the server.
pub(super) fn managed_system(db: &mut Db, scope: &Scope) -> Result<Option<Platform>> {
    if *scope != Scope::System {
        return Ok(None);
    }
    Ok(db.facts()?.platform.managed())
}

/// Before ALTER SYSTEM: refuse where it is switched off (allow_alter_system = off, 17+).
fn system_guard<'a>(
    db: &mut Db,
    scope: &Scope,
    names: impl Iterator<Item = &'a str>,
    cat: &Catalog,
) -> Result<Option<Guard>> {
    if *scope != Scope::System || managed_system(db, scope)?.is_some() {
        return Ok(None);
    }
    let names: Vec<&str> = names.collect();
    if db.pooled() {
        return Err(crate::exit::refuse(through_pooler(db)?));
    }
    let guard = Guard::load(db)?;
    if guard.allow_alter_system.as_deref() == Some("off") {
        return Err(anyhow!(
            "ALTER SYSTEM is switched off on this server (allow_alter_system = off): its configuration is \
             managed outside PostgreSQL; nothing was changed. Change {} where postgresql.conf is managed \
             (configuration management, the operator, or {}).{}",
            names.join(", "),
            guard
                .provider()
                .unwrap_or("the provider's parameter settings on a managed service"),
            role_level_alternative(cat, &names)
        ));
    }
    if !db.facts()?.is_superuser {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let denied: Vec<String> = if db.facts()?.version_num >= 150000 {
            db.query(
                include_str!("../../sql/tune_alter_system_privilege.sql"),
                &[(&names, Type::TEXT_ARRAY)],
            )?
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_>>()?
        } else {
            names.clone()
        };
        if !denied.is_empty() {
            let denied: Vec<&str> = denied.iter().map(String::as_str).collect();
            return Err(anyhow!(system_denied(
                &db.facts()?.current_user,
                &denied,
                Some(&guard),
                cat
            )));
        }
    }
    Ok(Some(guard))
}

/// Why ALTER SYSTEM is refused through a pooler that refused pgconn's startup options, and the direct
/// connection to use instead. ALTER SYSTEM refuses a transaction block, so pgconn's `SET LOCAL` timeouts
/// cannot bound it there; and with transaction pooling the reload's check (this session's
/// pg_conf_load_time, then pg_settings) could read other server connections than the one that asked for
/// the reload, and report a value as not applied, or applied, wrongly. From the client side a
/// transaction pooler cannot be told from a session pooler, so any pooler is refused. The server names
/// its own end of the pooler's connection: its address (none on a unix socket, then its socket
/// directory) and port.
fn through_pooler(db: &mut Db) -> Result<String> {
    let r = db.query_one(include_str!("../../sql/tune_direct_route.sql"), &[])?;
    let address: Option<String> = r.try_get("address")?;
    let socket_dir: Option<String> = r.try_get("socket_dir")?;
    let port: String = r.try_get("port")?;
    let (host, note) = match (address, socket_dir) {
        (Some(a), _) => (crate::report::shell_quote(&a), ""),
        (None, Some(d)) => (
            crate::report::shell_quote(&d),
            " (a socket directory on the server's host)",
        ),
        (None, None) => ("HOST".into(), ""),
    };
    Ok(format!(
        "ALTER SYSTEM is not made through a connection pooler (this connection refused pgconn's startup \
         options, as PgBouncer does): it cannot run inside a transaction, so it would run without \
         pgconn's statement and lock timeouts, and with transaction pooling the check that the reload \
         took effect could read another server connection. Nothing was changed. Connect to PostgreSQL \
         directly, where the pooler connects: the same command with -h {host} -p {port}{note}"
    ))
}

/// " Or set it per database / role ..." when every named setting allows that.
pub(super) fn role_level_alternative(cat: &Catalog, names: &[&str]) -> String {
    let ok = !names.is_empty()
        && names.iter().all(|n| {
            cat.get(n)
                .is_some_and(|s| matches!(s.context.as_str(), "user" | "superuser"))
        });
    if ok {
        " Or set it for the applications' database or role instead: --database DB / --role ROLE."
            .into()
    } else {
        String::new()
    }
}

/// Why ALTER SYSTEM is not allowed for this role, and what to do instead.
pub(super) fn system_denied(
    user: &str,
    names: &[&str],
    guard: Option<&Guard>,
    cat: &Catalog,
) -> String {
    format!(
        "permission denied: ALTER SYSTEM needs a superuser or GRANT ALTER SYSTEM ON PARAMETER {} TO {} \
         (PostgreSQL 15+), and role {} has neither; nothing was changed. {}{}",
        names.join(", "),
        quote::ident(user),
        quoted(user),
        match guard.and_then(Guard::provider) {
            Some(p) => format!("This looks like {p}."),
            None => "On a managed service (RDS, Cloud SQL, Azure) no role may use ALTER SYSTEM: change it in \
                     the parameter group / database flags / server parameters."
                .to_string(),
        },
        role_level_alternative(cat, names)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::tune::catalog::Setting;
    use crate::setting::VarType;

    fn cat() -> Catalog {
        let mut c = Catalog::default();
        let mk = |name: &str, unit: Option<&str>, ctx: &str, min: f64, max: f64, v: &str| Setting {
            name: name.into(),
            setting: v.into(),
            unit: unit.map(str::to_string),
            vartype: VarType::Integer,
            context: ctx.into(),
            source: "default".into(),
            sourcefile: None,
            sourceline: None,
            min: Some(min),
            max: Some(max),
            enumvals: vec![],
            boot_val: Some(v.into()),
            pending_restart: false,
        };
        for s in [
            mk(
                "statement_timeout",
                Some("ms"),
                "user",
                0.0,
                2147483647.0,
                "0",
            ),
            mk("max_connections", None, "postmaster", 1.0, 262143.0, "100"),
            mk(
                "superuser_reserved_connections",
                None,
                "postmaster",
                0.0,
                262143.0,
                "3",
            ),
        ] {
            c.settings.insert(s.name.clone(), s);
        }
        c
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn set_validation_reports_every_problem() {
        let db = Scope::Database {
            database: "app".into(),
        };
        let errs = validate_set(
            &cat(),
            &db,
            &pairs(&[
                ("statement_timeout", "5 fortnights"),
                ("max_connections", "200"),
                ("transaction_timeout", "5min"),
                ("statment_timeout", "1s"),
            ]),
            150018,
            "15.18",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("unknown unit"));
        assert!(errs[1].contains("--system"));
        assert!(errs[2].contains("added in PostgreSQL 17"));
        assert!(errs[3].contains("did you mean statement_timeout"));
    }

    #[test]
    fn set_values_are_normalised() {
        let d = validate_set(
            &cat(),
            &Scope::System,
            &pairs(&[("statement_timeout", "1h30m"), ("max_connections", "200")]),
            150018,
            "15.18",
        )
        .unwrap();
        assert_eq!(d[0].new.as_deref(), Some("90min"));
        assert_eq!(d[0].input.as_deref(), Some("1h30m"));
        assert_eq!(d[1].new.as_deref(), Some("200"));
    }

    #[test]
    fn overriding_layers_are_named() {
        let st = |d: Option<&str>, r: Option<&str>| Stored {
            database: d.map(str::to_string),
            role: r.map(str::to_string),
            name: "statement_timeout".into(),
            value: "10s".into(),
        };
        let all = vec![
            st(Some("app"), None),
            st(None, Some("web")),
            st(Some("other"), Some("web")),
            st(Some("app"), Some("api")),
        ];
        let db = Scope::Database {
            database: "app".into(),
        };
        let notes = overridden_by(&all, &db, "statement_timeout", None);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("role \"web\""));
        assert!(notes[1].contains("role \"api\" in database \"app\""));
        let role = Scope::Role { role: "web".into() };
        assert_eq!(
            overridden_by(&all, &role, "statement_timeout", None).len(),
            1
        );
        assert_eq!(
            overridden_by(&all, &Scope::System, "statement_timeout", None).len(),
            4
        );
    }
}
