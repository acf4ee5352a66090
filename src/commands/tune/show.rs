//! `pgconn tune show`: each connection setting with the value a new session gets, where that value comes
//! from (default, configuration file, ALTER SYSTEM, database, role, role in database), whether changing it
//! needs a restart, pending_restart, the values stored per database and role, and a recommendation; and
//! the CONNECTION LIMIT of the database and role asked about.

use anyhow::Result;

use super::catalog::{self, Catalog, FileEntry, Setting, Stored};
use super::limit;

use super::CONNECTION_SETTINGS;
use crate::db::Db;
use crate::report::tune::Scope;
use crate::report::tune::{NotAvailable, Override, Recommendation, ShowReport, ShownSetting};
use crate::setting;

fn rec(level: &'static str, value: Option<&str>, reason: impl Into<String>) -> Recommendation {
    Recommendation {
        level,
        value: value.map(str::to_string),
        reason: reason.into(),
    }
}

/// What `tune show` is asked: the connection settings, and which database's and role's stored values
/// to look at (both optional).
#[derive(Debug, Clone, Default)]
pub struct TuneShowRequest {
    pub database: Option<String>,
    pub role: Option<String>,
}

pub fn collect(db: &mut Db, args: &TuneShowRequest) -> Result<ShowReport> {
    let database = args.database.clone();
    let role = args.role.clone();
    if let Some(scope) = Scope::from_parts(database.as_deref(), role.as_deref(), false) {
        catalog::check_target(db, &scope)?;
    }
    let cat = Catalog::load(db)?;
    let stored = catalog::role_settings(db)?;
    let files = catalog::file_settings(db)?;
    let version = db.facts()?.version_num;

    let mut settings = Vec::new();
    let mut not_available = Vec::new();
    let mut hidden = Vec::new();
    for (name, since) in CONNECTION_SETTINGS {
        let Some(s) = cat.get(name).filter(|_| version >= *since) else {
            not_available.push(NotAvailable {
                name: name.to_string(),
                since_version_num: *since,
            });
            continue;
        };
        let shown = shown_setting(
            s,
            &stored,
            files.as_deref(),
            database.as_deref(),
            role.as_deref(),
        );
        if shown.note.is_some() {
            hidden.push(s.name.clone());
        }
        settings.push(shown);
    }

    // The CONNECTION LIMIT of the database and the role asked about (each on its own: PostgreSQL has
    // no limit of a role in one database).
    let mut connection_limits = Vec::new();
    if let Some(d) = &database {
        let scope = Scope::Database {
            database: d.clone(),
        };
        connection_limits.extend(limit::Target::load(db, &scope)?.map(|t| t.shown()));
    }
    if let Some(r) = &role {
        let scope = Scope::Role { role: r.clone() };
        connection_limits.extend(limit::Target::load(db, &scope)?.map(|t| t.shown()));
    }

    let mut warnings = Vec::new();
    if !hidden.is_empty() {
        warnings.push(format!(
            "this session sets its own {} (pgconn's safety limits or settings of its database / role), and \
             role \"{}\" may not read the configuration files (pg_file_settings needs a superuser): the \
             server-wide value shown is the built-in default unless a file sets another",
            hidden.join(", "),
            db.facts()?.current_user
        ));
    }
    if role.is_some() && database.is_none() {
        warnings.push(
            "settings of the database a session connects to apply too, below the role's; add --database \
             to see the values for one database"
                .into(),
        );
    }
    Ok(ShowReport {
        target: db.target_label(),
        connection: db.route().clone(),
        server_version: db.facts()?.version.clone(),
        server_version_num: version,
        database,
        role,
        settings,
        not_available,
        connection_limits,
        warnings,
    })
}

/// The server-wide value: (stored text, source, detail, hidden behind this session's own value).
fn server_level(
    s: &Setting,
    files: Option<&[FileEntry]>,
) -> (String, &'static str, Option<String>, bool) {
    let file_source = |e: &FileEntry| -> (&'static str, Option<String>) {
        let detail = match e.sourceline {
            Some(l) => format!("{}:{l}", e.sourcefile),
            None => e.sourcefile.clone(),
        };
        if e.auto_conf {
            ("alter_system", Some(detail))
        } else {
            ("configuration_file", Some(detail))
        }
    };
    // The entry a reload would use: the last applied one in file order.
    let from_files = || {
        files.and_then(|f| {
            f.iter()
                .rev()
                .find(|e| e.name == s.name && e.applied && e.error.is_none())
        })
    };
    let boot = || s.boot_val.clone().unwrap_or_else(|| s.setting.clone());
    match s.source.as_str() {
        "default" => (s.setting.clone(), "default", None, false),
        "configuration file" => {
            let (src, detail) = match (&s.sourcefile, s.sourceline) {
                (Some(f), line) => {
                    let detail = match line {
                        Some(l) => format!("{f}:{l}"),
                        None => f.clone(),
                    };
                    if f.ends_with("postgresql.auto.conf") {
                        ("alter_system", Some(detail))
                    } else {
                        ("configuration_file", Some(detail))
                    }
                }
                (None, _) => match from_files() {
                    Some(e) => file_source(e),
                    None => ("configuration_file", None),
                },
            };
            (s.setting.clone(), src, detail, false)
        }
        "command line" => (s.setting.clone(), "command_line", None, false),
        "environment variable" => (s.setting.clone(), "environment_variable", None, false),
        _ if s.session_sourced() => match (files, from_files()) {
            (_, Some(e)) => {
                let (src, detail) = file_source(e);
                (e.setting.clone().unwrap_or_else(boot), src, detail, false)
            }
            (Some(_), None) => (boot(), "default", None, false),
            (None, None) => (boot(), "default", None, true),
        },
        _ => (s.setting.clone(), "other", Some(s.source.clone()), false),
    }
}

pub fn shown_setting(
    s: &Setting,
    stored: &[Stored],
    files: Option<&[FileEntry]>,
    database: Option<&str>,
    role: Option<&str>,
) -> ShownSetting {
    let meta = s.meta();
    let (server_raw, server_source, server_detail, hidden) = server_level(s, files);

    // Database and role layers, strongest first (PostgreSQL applies them in this precedence).
    let layered = matches!(
        s.context.as_str(),
        "user" | "superuser" | "backend" | "superuser-backend"
    );
    let mine: Vec<&Stored> = stored.iter().filter(|x| x.name == s.name).collect();
    let find = |d: Option<&str>, r: Option<&str>| {
        mine.iter()
            .find(|x| x.database.as_deref() == d && x.role.as_deref() == r)
            .copied()
    };
    let mut candidates: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    if role.is_some() && database.is_some() {
        candidates.push((database, role));
    }
    if role.is_some() {
        candidates.push((None, role));
    }
    if database.is_some() {
        candidates.push((database, None));
    }
    if role.is_some() || database.is_some() {
        candidates.push((None, None));
    }
    let layer = if layered {
        candidates.into_iter().find_map(|(d, r)| find(d, r))
    } else {
        None
    };

    let (raw, source, detail) = match layer {
        Some(x) => (x.value.clone(), x.source(), Some(x.label())),
        None => (server_raw.clone(), server_source, server_detail),
    };
    let base = setting::base_of(&meta, &raw);
    let shown_value = setting::display(&meta, &raw);
    let overrides = mine
        .iter()
        .map(|x| Override {
            scope: x.source(),
            database: x.database.clone(),
            role: x.role.clone(),
            value: setting::display(&meta, &x.value),
        })
        .collect();
    ShownSetting {
        name: s.name.clone(),
        recommendation: recommend(&s.name, base, &shown_value),
        value: shown_value,
        value_in_unit: base,
        unit: s.unit.clone(),
        source: source.to_string(),
        source_detail: detail,
        server_value: setting::display(&meta, &server_raw),
        server_source: server_source.to_string(),
        context: s.context.clone(),
        restart_required: s.restart_required(),
        pending_restart: s.pending_restart,
        overrides,
        note: hidden.then(|| {
            "this session sets its own value; the server-wide value could not be read".to_string()
        }),
    }
}

/// A recommendation with a one-line reason, from the effective value (in the setting's unit).
pub fn recommend(name: &str, base: Option<f64>, shown: &str) -> Recommendation {
    let v = base.unwrap_or(0.0);
    match name {
        "idle_in_transaction_session_timeout" if v <= 0.0 => rec(
            "suggest",
            Some("5min"),
            "an idle transaction holds locks and blocks vacuum; 5min ends forgotten ones",
        ),
        "idle_in_transaction_session_timeout" if v > 3_600_000.0 => rec(
            "suggest",
            Some("5min"),
            format!("{shown} lets an idle transaction hold locks and block vacuum for a long time"),
        ),
        "idle_in_transaction_session_timeout" => rec(
            "ok",
            None,
            format!("transactions left idle longer than {shown} are ended"),
        ),
        "idle_session_timeout" if v <= 0.0 => rec(
            "ok",
            None,
            "keep 0 server-wide: a timeout drops connections that pools keep idle, unless a pooler sits \
             in front; set it only for roles or databases whose clients do not pool",
        ),
        "idle_session_timeout" => rec(
            "warning",
            None,
            format!(
                "sessions idle for {shown} are dropped: pools that keep idle connections will see errors \
                 unless a pooler (e.g. PgBouncer) sits in front"
            ),
        ),
        "statement_timeout" if v <= 0.0 => rec(
            "suggest",
            Some("30s"),
            "a runaway query holds its connection and locks without limit; set it per application \
             database or role (server-wide it also cuts off maintenance and reports)",
        ),
        "statement_timeout" => rec("ok", None, format!("statements are cancelled after {shown}")),
        "lock_timeout" if v <= 0.0 => rec(
            "ok",
            None,
            "waits for locks without limit; a few seconds for application roles stops lock queues from \
             piling up connections",
        ),
        "lock_timeout" => rec("ok", None, format!("lock waits end after {shown}")),
        "transaction_timeout" if v <= 0.0 => rec(
            "ok",
            None,
            "no limit on whole transactions; idle_in_transaction_session_timeout covers forgotten ones",
        ),
        "transaction_timeout" => rec(
            "ok",
            None,
            format!("transactions are ended after {shown}, busy ones included"),
        ),
        "max_connections" if v > 500.0 => rec(
            "warning",
            None,
            "every connection costs memory and CPU even when idle: a pooler (PgBouncer) in front serves \
             more clients than a higher limit",
        ),
        "max_connections" => rec(
            "ok",
            None,
            "changing it needs a restart; if most connections are idle, end the leak or add a pooler \
             before raising it",
        ),
        "superuser_reserved_connections" if v < 3.0 => rec(
            "suggest",
            Some("3"),
            "keeps slots free so an administrator can still get in when the server is full",
        ),
        "superuser_reserved_connections" => rec(
            "ok",
            None,
            "slots kept for superusers when the server is full",
        ),
        "reserved_connections" if v <= 0.0 => rec(
            "ok",
            None,
            "can keep slots for monitoring and admin roles (members of pg_use_reserved_connections)",
        ),
        "reserved_connections" => rec(
            "ok",
            None,
            "slots kept for members of pg_use_reserved_connections",
        ),
        "tcp_keepalives_idle" if v <= 0.0 => rec(
            "suggest",
            Some("1min"),
            "0 means the OS default (often 2 hours): connections of vanished clients hold slots that long \
             (TCP only)",
        ),
        "tcp_keepalives_interval" if v <= 0.0 => rec(
            "suggest",
            Some("10s"),
            "with tcp_keepalives_idle, decides how fast a dead client is noticed (0 = OS default)",
        ),
        "tcp_keepalives_count" if v <= 0.0 => rec(
            "suggest",
            Some("6"),
            "unanswered probes before a dead client's connection is closed (0 = OS default)",
        ),
        "tcp_keepalives_idle" | "tcp_keepalives_interval" | "tcp_keepalives_count" => rec(
            "ok",
            None,
            "dead TCP clients are detected by keepalives",
        ),
        "client_connection_check_interval" if v <= 0.0 => rec(
            "suggest",
            Some("10s"),
            "a query keeps running after its client has gone; checking every 10s cancels it and frees \
             the slot",
        ),
        "client_connection_check_interval" => rec(
            "ok",
            None,
            format!("queries of disconnected clients are cancelled within {shown}"),
        ),
        _ => rec("ok", None, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setting::VarType;

    fn st(name: &str, source: &str, setting: &str) -> Setting {
        Setting {
            name: name.into(),
            setting: setting.into(),
            unit: Some("ms".into()),
            vartype: VarType::Integer,
            context: "user".into(),
            source: source.into(),
            sourcefile: None,
            sourceline: None,
            min: Some(0.0),
            max: Some(2147483647.0),
            enumvals: vec![],
            boot_val: Some("0".into()),
            pending_restart: false,
        }
    }

    fn stored(d: Option<&str>, r: Option<&str>, v: &str) -> Stored {
        Stored {
            database: d.map(str::to_string),
            role: r.map(str::to_string),
            name: "statement_timeout".into(),
            value: v.into(),
        }
    }

    #[test]
    fn layers_apply_in_postgresql_precedence() {
        let s = st("statement_timeout", "default", "0");
        let all = vec![
            stored(None, None, "1s"),
            stored(Some("app"), None, "2s"),
            stored(None, Some("web"), "3s"),
            stored(Some("app"), Some("web"), "4s"),
        ];
        let pick = |d, r| {
            let x = shown_setting(&s, &all, None, d, r);
            (x.value, x.source)
        };
        assert_eq!(pick(None, None), ("0".into(), "default".into()));
        assert_eq!(pick(Some("app"), None), ("2s".into(), "database".into()));
        assert_eq!(pick(None, Some("web")), ("3s".into(), "role".into()));
        assert_eq!(
            pick(Some("app"), Some("web")),
            ("4s".into(), "role_in_database".into())
        );
        assert_eq!(pick(Some("other"), None), ("1s".into(), "all_roles".into()));
        // Role beats database.
        let two = vec![
            stored(Some("app"), None, "2s"),
            stored(None, Some("web"), "3s"),
        ];
        assert_eq!(
            shown_setting(&s, &two, None, Some("app"), Some("web")).value,
            "3s"
        );
        assert_eq!(shown_setting(&s, &all, None, None, None).overrides.len(), 4);
    }

    #[test]
    fn server_level_sources() {
        let mut s = st("statement_timeout", "configuration file", "300000");
        s.sourcefile = Some("/d/postgresql.auto.conf".into());
        s.sourceline = Some(3);
        let x = shown_setting(&s, &[], None, None, None);
        assert_eq!(x.value, "5min");
        assert_eq!(x.value_in_unit, Some(300000.0));
        assert_eq!(x.source, "alter_system");
        assert_eq!(
            x.source_detail.as_deref(),
            Some("/d/postgresql.auto.conf:3")
        );

        // Hidden behind this session's own value, files readable: the last applied file entry.
        let s = st("statement_timeout", "client", "30000");
        let files = vec![
            FileEntry {
                sourcefile: "/d/postgresql.conf".into(),
                sourceline: Some(9),
                name: "statement_timeout".into(),
                setting: Some("10s".into()),
                applied: true,
                error: None,
                auto_conf: false,
            },
            FileEntry {
                sourcefile: "/d/postgresql.auto.conf".into(),
                sourceline: Some(2),
                name: "statement_timeout".into(),
                setting: Some("20s".into()),
                applied: true,
                error: None,
                auto_conf: true,
            },
        ];
        let x = shown_setting(&s, &[], Some(&files), None, None);
        assert_eq!(
            (x.value.as_str(), x.source.as_str()),
            ("20s", "alter_system")
        );
        assert!(x.note.is_none());
        // Files not readable: the built-in default, with a note.
        let x = shown_setting(&s, &[], None, None, None);
        assert_eq!((x.value.as_str(), x.source.as_str()), ("0", "default"));
        assert!(x.note.is_some());
    }

    #[test]
    fn recommendations_have_reasons() {
        let r = recommend("idle_in_transaction_session_timeout", Some(0.0), "0");
        assert_eq!((r.level, r.value.as_deref()), ("suggest", Some("5min")));
        assert!(r.reason.contains("blocks vacuum"));
        let r = recommend("idle_session_timeout", Some(60000.0), "1min");
        assert_eq!(r.level, "warning");
        assert!(r.reason.contains("pooler"));
        for (name, _) in CONNECTION_SETTINGS {
            for v in [0.0, 1.0, 1e9] {
                assert!(!recommend(name, Some(v), "x").reason.is_empty(), "{name}");
            }
        }
    }
}
