//! `pgconn tune`: show, set, reset and undo the connection timeouts and limits, per database
//! (ALTER DATABASE), role (ALTER ROLE [IN DATABASE]) or server (ALTER SYSTEM + reload). Every change is
//! validated against pg_settings before anything is sent, shown as a plan with its exact SQL, confirmed,
//! recorded in a history file for `tune undo`, and reported with what took effect.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use crate::db::Db;
use crate::setting;

pub mod apply;
pub mod catalog;
pub mod history;
pub mod limit;
pub mod plan;
pub mod presets;
pub mod provider;
pub mod quote;
pub mod show;
pub mod startup;

use crate::report::tune::ChangeReport;
use crate::report::tune::Scope;
use crate::report::tune::{HistoryReport, PresetsReport};
use plan::Context;

/// The settings `tune show` lists, with the first server_version_num that has each.
pub const CONNECTION_SETTINGS: &[(&str, i32)] = &[
    ("max_connections", 0),
    ("superuser_reserved_connections", 0),
    ("reserved_connections", 160000),
    ("idle_in_transaction_session_timeout", 0),
    ("idle_session_timeout", 140000),
    ("statement_timeout", 0),
    ("transaction_timeout", 170000),
    ("lock_timeout", 0),
    ("tcp_keepalives_idle", 0),
    ("tcp_keepalives_interval", 0),
    ("tcp_keepalives_count", 0),
    ("client_connection_check_interval", 140000),
];

/// A change planned by `tune set`, `reset` or `undo`: the report people and JSON see (old → new with the
/// exact SQL), and what applying it needs.
pub struct TunePlan {
    pub report: ChangeReport,
    ctx: Context,
    yes: bool,
    /// `--history FILE`, when given.
    history: Option<PathBuf>,
}

impl super::Plan for TunePlan {
    type Report = ChangeReport;

    fn report(&self) -> &ChangeReport {
        &self.report
    }

    /// Whether there is anything to apply (something changes, this is not a dry run, and not `--system`
    /// on a managed platform, where the provider's commands are printed instead).
    fn acts(&self) -> bool {
        !self.report.dry_run && self.report.pending().count() > 0 && self.report.platform.is_none()
    }

    /// The history file can take the entry (it is written before anything changes).
    fn ready(&mut self) -> Result<()> {
        let path = history::path(self.history.as_deref())?;
        history::check_appendable(&path)?;
        self.history = Some(path);
        Ok(())
    }

    /// A dry run, or nothing to change: nothing is recorded.
    fn record_without_acting(self) -> Result<ChangeReport> {
        Ok(self.report)
    }

    /// None: the plan itself lists its warnings, above the question.
    fn warnings(_report: &ChangeReport) -> &[String] {
        &[]
    }

    fn question(&self) -> String {
        let pending = self.report.pending().count();
        let verb = match self.report.action {
            "reset" => "Reset",
            "undo" => "Undo",
            _ => "Change",
        };
        format!(
            "{verb} {pending} setting{} of {}?",
            if pending == 1 { "" } else { "s" },
            self.report.scope.label()
        )
    }

    fn yes(&self) -> bool {
        self.yes
    }
}

/// How a planned change is applied: asked or not, for real or not, recorded where.
#[derive(Debug, Clone, Default)]
pub struct TuneApply {
    /// Act without asking (needed when there is no terminal).
    pub yes: bool,
    /// Show the plan, change nothing.
    pub dry_run: bool,
    /// The history file (default: `$XDG_STATE_HOME/pgconn/tune-history.jsonl`).
    pub history: Option<PathBuf>,
}

/// `--system` on a managed platform: the provider's commands for the plan's changes, values in the
/// settings' base units (pg_settings.unit: `5min` of a ms setting is `300000`).
fn with_provider(
    db: &mut Db,
    report: &mut ChangeReport,
    ctx: &Context,
    instance_memory: Option<u64>,
) -> Result<()> {
    let Some(platform) = report.platform else {
        return Ok(());
    };
    let changes: Vec<provider::ProviderChange> = report
        .pending()
        .map(|c| {
            let meta = ctx.catalog.get(&c.name).map(|s| s.meta());
            provider::ProviderChange {
                name: c.name.clone(),
                value: c.new.as_ref().map(|v| {
                    provider::base_value(meta.as_ref().and_then(|m| setting::base_of(m, v)), v)
                }),
                input: c.input.clone(),
                restart: c.restart_required,
            }
        })
        .collect();
    let host = db.host_name();
    let major = db.facts()?.version_num / 10000;
    let p = provider::commands(
        platform,
        &changes,
        &provider::ProviderInput {
            host: host.as_deref(),
            major,
            instance_memory,
        },
    );
    if let Some(why) = p.refused {
        return Err(crate::exit::refuse(why));
    }
    report.notes.insert(
        0,
        format!(
            "{} does not take ALTER SYSTEM: nothing applied, pgconn sends no change to the server; the \
             provider's commands follow (values in each setting's base unit)",
            platform.title()
        ),
    );
    report.provider_commands = p.commands;
    report.warnings.extend(p.warnings);
    report.notes.extend(p.notes);
    Ok(())
}

fn planned(report: ChangeReport, ctx: Context, a: &TuneApply) -> TunePlan {
    let mut report = report;
    report.dry_run = a.dry_run;
    TunePlan {
        report,
        ctx,
        yes: a.yes,
        history: a.history.clone(),
    }
}

/// Record the history, apply the plan, and report what took effect. Acts only on what the plan showed:
/// a scope whose stored values moved since is refused.
pub fn execute(db: &mut Db, mut plan: TunePlan) -> Result<ChangeReport> {
    let path = match plan.history.take() {
        Some(p) => p,
        None => history::path(None)?,
    };
    apply::apply(db, &mut plan.report, &plan.ctx, &path)?;
    Ok(plan.report)
}

/// What `tune set` is asked, checked before anything is sent ([`TuneSetRequest::new`]): a scope, a
/// preset, each setting once, and a `connection_limit` that the scope has and PostgreSQL would read.
#[derive(Debug, Clone)]
pub struct TuneSetRequest {
    scope: Scope,
    explicit: Vec<(String, String)>,
    preset: Option<presets::TunePreset>,
    apply: TuneApply,
    /// `--instance-memory`: RDS's DBInstanceClassMemory in bytes, for the max_connections check.
    instance_memory: Option<u64>,
}

impl TuneSetRequest {
    /// The instance class's memory (RDS / Aurora `--system`): max_connections is checked against RDS's
    /// default for it.
    pub fn with_instance_memory(mut self, bytes: Option<u64>) -> TuneSetRequest {
        self.instance_memory = bytes;
        self
    }

    /// Refuse a `tune set` that cannot be right whatever the server says (nothing to set, a setting
    /// given twice). Names are PostgreSQL's (compared as given: lower-case them first).
    pub fn new(
        scope: Scope,
        pairs: Vec<(String, String)>,
        preset: Option<presets::TunePreset>,
        apply: TuneApply,
    ) -> Result<TuneSetRequest> {
        let explicit = check_set(&pairs, preset.is_some())?;
        check_limits(&scope, set_values(&explicit))?;
        Ok(TuneSetRequest {
            scope,
            explicit,
            preset,
            apply,
            instance_memory: None,
        })
    }
}

/// What `tune reset` is asked: these settings (or `all`) of a scope. [`TuneResetRequest::new`] refuses
/// before anything is sent what no server would take (a connection limit of a scope that has none);
/// planning checks it again for a request built field by field.
#[derive(Debug, Clone)]
pub struct TuneResetRequest {
    pub scope: Scope,
    pub names: Vec<String>,
    pub all: bool,
    pub apply: TuneApply,
}

impl TuneResetRequest {
    pub fn new(
        scope: Scope,
        names: Vec<String>,
        all: bool,
        apply: TuneApply,
    ) -> Result<TuneResetRequest> {
        check_limits(&scope, names.iter().map(|n| (n.as_str(), None)))?;
        Ok(TuneResetRequest {
            scope,
            names,
            all,
            apply,
        })
    }
}

/// What `tune undo` is asked: reverse the last change still in effect (`force`: even when its values
/// were changed since).
#[derive(Debug, Clone, Default)]
pub struct TuneUndoRequest {
    pub force: bool,
    pub apply: TuneApply,
}

/// The scope of a change, refused when there is none.
pub fn scope_of(database: Option<&str>, role: Option<&str>, system: bool) -> Result<Scope> {
    Scope::from_parts(database, role, system)
        .ok_or_else(|| crate::exit::refuse("give a scope: --database DB, --role ROLE or --system"))
}

/// `connection_limit` exists for a database or a role only, and its value (None for a reset, which sets
/// -1) must be one PostgreSQL takes: refused with every problem at once, before any connection is made,
/// so that `--show-sql` shows nothing.
fn check_limits<'a>(
    scope: &Scope,
    changes: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<()> {
    let mut errors = Vec::new();
    for (_, value) in changes.into_iter().filter(|(n, _)| limit::is(n)) {
        let checked = limit::scope_allows(scope)
            .and_then(|()| value.map_or(Ok(()), |v| limit::parse(scope, v).map(|_| ())));
        if let Err(e) = checked {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(crate::exit::refuse(format!(
            "nothing was changed:\n  - {}",
            errors.join("\n  - ")
        )))
    }
}

/// The pairs of `tune set`, as [`check_limits`] reads them.
fn set_values(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, Option<&str>)> {
    pairs.iter().map(|(n, v)| (n.as_str(), Some(v.as_str())))
}

/// Each setting once, and something to set.
fn check_set(pairs: &[(String, String)], preset: bool) -> Result<Vec<(String, String)>> {
    if pairs.is_empty() && !preset {
        return Err(crate::exit::refuse(
            "nothing to set: give NAME=VALUE pairs (e.g. statement_timeout=30s) or --preset NAME \
             (`pgconn tune presets` lists them)",
        ));
    }
    // Each name once: which of two values was meant cannot be guessed.
    let mut explicit: Vec<(String, String)> = Vec::new();
    let mut twice = Vec::new();
    for (n, v) in pairs {
        match explicit.iter().find(|(x, _)| x == n) {
            Some((_, first)) => twice.push(format!("{n} ({first} and {v})")),
            None => explicit.push((n.clone(), v.clone())),
        }
    }
    if !twice.is_empty() {
        return Err(crate::exit::refuse(format!(
            "{} given more than once; give each setting once. Nothing was changed",
            twice.join(", ")
        )));
    }
    Ok(explicit)
}

/// The plan of `tune set`: the preset's values (those this server has) and the explicit ones.
pub fn plan_set(db: &mut Db, req: &TuneSetRequest) -> Result<TunePlan> {
    let TuneSetRequest {
        scope,
        explicit,
        preset,
        apply,
        instance_memory,
    } = req;
    check_limits(scope, set_values(explicit))?;
    let mut notes = Vec::new();
    let mut pairs = Vec::new();
    if let Some(p) = *preset {
        let preset = presets::get(p);
        for s in &preset.settings {
            if explicit.iter().any(|(n, _)| n == s.name) {
                notes.push(format!(
                    "{} from the command line replaces the preset's {}",
                    s.name, s.value
                ));
            } else if db.facts()?.version_num < s.since_version_num {
                notes.push(format!(
                    "preset {}: {} skipped (PostgreSQL {}+)",
                    preset.name,
                    s.name,
                    s.since_version_num / 10000
                ));
            } else {
                pairs.push((s.name.to_string(), s.value.to_string()));
            }
        }
    }
    pairs.extend(explicit.iter().cloned());
    let (mut report, ctx) = plan::plan_set(db, scope, pairs, notes)?;
    with_provider(db, &mut report, &ctx, *instance_memory)?;
    Ok(planned(report, ctx, apply))
}

/// The plan of `tune reset`.
pub fn plan_reset(db: &mut Db, a: &TuneResetRequest) -> Result<TunePlan> {
    let a = &TuneResetRequest::new(a.scope.clone(), a.names.clone(), a.all, a.apply.clone())?;
    let (mut report, ctx) = plan::plan_reset(db, &a.scope, &a.names, a.all)?;
    with_provider(db, &mut report, &ctx, None)?;
    Ok(planned(report, ctx, &a.apply))
}

/// The history `tune undo` and `tune history` read, with warnings for the lines that cannot be read.
pub fn load_history(arg: Option<&Path>) -> Result<history::History> {
    history::History::load(&history::path(arg)?)
}

/// The plan of `tune undo`: the last change on this server that is still in effect, reversed.
pub fn plan_undo(db: &mut Db, h: &history::History, a: &TuneUndoRequest) -> Result<TunePlan> {
    let server = plan::server_record(db)?;
    let entry = h.last_undoable(&server).cloned().ok_or_else(|| {
        anyhow!(
            "nothing to undo: {} records no tune change on this server ({}) that is still in effect",
            h.path.display(),
            server.target
        )
    })?;
    let (mut report, ctx) = plan::plan_undo(db, &entry, server, a.force)?;
    with_provider(db, &mut report, &ctx, None)?;
    Ok(planned(report, ctx, &a.apply))
}

/// `tune history`: the entries, newest last, and the lines that could not be read.
pub fn history_report(h: history::History) -> HistoryReport {
    HistoryReport {
        history_file: h.path.display().to_string(),
        entries: h.entries,
        skipped_lines: h.unreadable.len(),
        unreadable: h.unreadable,
    }
}

/// `tune presets`.
pub fn presets_report() -> PresetsReport {
    PresetsReport {
        presets: presets::all(),
    }
}
