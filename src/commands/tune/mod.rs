//! `pgconn tune`: show, set, reset and undo the connection timeouts and limits, per database
//! (ALTER DATABASE), role (ALTER ROLE [IN DATABASE]) or server (ALTER SYSTEM + reload). Every change is
//! validated against pg_settings before anything is sent, shown as a plan with its exact SQL, confirmed,
//! recorded in a history file for `tune undo`, and reported with what took effect.

use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::cli::{
    ConnArgs, TuneAction, TuneApplyArgs, TuneArgs, TuneHistoryArgs, TuneResetArgs, TuneScopeArgs,
    TuneSetArgs, TuneShowArgs, TuneUndoArgs,
};
use crate::db::Db;
use crate::render::{self, Style};
use crate::ui;

pub mod apply;
pub mod catalog;
pub mod history;
pub mod plan;
pub mod presets;
pub mod quote;
pub mod show;
pub mod value;

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

pub fn run(conn: &ConnArgs, show_sql: bool, args: &TuneArgs, style: &Style) -> Result<ExitCode> {
    match &args.action {
        None => show_cmd(conn, show_sql, &args.show, style),
        Some(TuneAction::Show(a)) => show_cmd(conn, show_sql, a, style),
        Some(TuneAction::Set(a)) => set_cmd(conn, show_sql, a, style),
        Some(TuneAction::Reset(a)) => reset_cmd(conn, show_sql, a, style),
        Some(TuneAction::Undo(a)) => undo_cmd(conn, show_sql, a, style),
        Some(TuneAction::History(a)) => history_cmd(a, style),
        Some(TuneAction::Presets) => presets_cmd(style),
    }
}

fn show_cmd(conn: &ConnArgs, show_sql: bool, a: &TuneShowArgs, style: &Style) -> Result<ExitCode> {
    let mut db = Db::connect_args(conn, show_sql)?;
    let report = show::collect(&mut db, a)?;
    if style.json {
        render::json(&report)?;
    } else {
        render::out(&render::tune::show(&report, style))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn scope_of(a: &TuneScopeArgs) -> Result<Scope> {
    let database = a.database.as_deref().or(a.in_database.as_deref());
    Scope::from_parts(database, a.role.as_deref(), a.system)
        .ok_or_else(|| crate::refuse("give a scope: --database DB, --role ROLE or --system"))
}

fn set_cmd(conn: &ConnArgs, show_sql: bool, a: &TuneSetArgs, style: &Style) -> Result<ExitCode> {
    let scope = scope_of(&a.scope)?;
    if a.pairs.is_empty() && a.preset.is_none() {
        return Err(crate::refuse(
            "nothing to set: give NAME=VALUE pairs (e.g. statement_timeout=30s) or --preset NAME \
             (`pgconn tune presets` lists them)",
        ));
    }
    // Each name once: which of two values was meant cannot be guessed.
    let mut explicit: Vec<(String, String)> = Vec::new();
    let mut twice = Vec::new();
    for (n, v) in &a.pairs {
        match explicit.iter().find(|(x, _)| x == n) {
            Some((_, first)) => twice.push(format!("{n} ({first} and {v})")),
            None => explicit.push((n.clone(), v.clone())),
        }
    }
    if !twice.is_empty() {
        return Err(crate::refuse(format!(
            "{} given more than once; give each setting once. Nothing was changed",
            twice.join(", ")
        )));
    }
    let mut db = Db::connect_args(conn, show_sql)?;
    let mut notes = Vec::new();
    let mut pairs = Vec::new();
    if let Some(p) = a.preset {
        let preset = presets::get(p);
        for s in &preset.settings {
            if explicit.iter().any(|(n, _)| n == s.name) {
                notes.push(format!(
                    "{} from the command line replaces the preset's {}",
                    s.name, s.value
                ));
            } else if db.facts.version_num < s.since_version_num {
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
    pairs.extend(explicit);
    let (report, ctx) = plan::plan_set(&mut db, &scope, pairs, notes)?;
    finish(&mut db, report, ctx, &a.apply, style)
}

fn reset_cmd(
    conn: &ConnArgs,
    show_sql: bool,
    a: &TuneResetArgs,
    style: &Style,
) -> Result<ExitCode> {
    let scope = scope_of(&a.scope)?;
    let mut db = Db::connect_args(conn, show_sql)?;
    let (report, ctx) = plan::plan_reset(&mut db, &scope, &a.names, a.all)?;
    finish(&mut db, report, ctx, &a.apply, style)
}

fn undo_cmd(conn: &ConnArgs, show_sql: bool, a: &TuneUndoArgs, style: &Style) -> Result<ExitCode> {
    let path = history::path(a.apply.history.as_deref())?;
    let h = history::History::load(&path)?;
    render::warnings(&h.unreadable_warnings());
    let mut db = Db::connect_args(conn, show_sql)?;
    let server = plan::server_record(&mut db);
    let entry = h.last_undoable(&server).cloned().ok_or_else(|| {
        anyhow!(
            "nothing to undo: {} records no tune change on this server ({}) that is still in effect",
            path.display(),
            server.target
        )
    })?;
    let (report, ctx) = plan::plan_undo(&mut db, &entry, a.force)?;
    finish(&mut db, report, ctx, &a.apply, style)
}

/// The shared end of set / reset / undo: plan, dry run, confirmation, history, apply, report.
fn finish(
    db: &mut Db,
    mut report: ChangeReport,
    ctx: Context,
    a: &TuneApplyArgs,
    style: &Style,
) -> Result<ExitCode> {
    report.dry_run = a.dry_run;
    let pending = report.pending().count();
    if pending == 0 || a.dry_run {
        emit(&report, style, true)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The history must take the entry before anything changes: checked before asking.
    let path = history::path(a.history.as_deref())?;
    history::check_appendable(&path)?;
    if !style.json {
        render::out(&render::tune::plan(&report, style))?;
    } else if !a.yes && ui::interactive() {
        // stdout carries only the JSON; the person answering still sees what they are asked about.
        eprint!("{}", render::tune::plan(&report, style));
    }
    let verb = match report.action {
        "reset" => "Reset",
        "undo" => "Undo",
        _ => "Change",
    };
    let question = format!(
        "{verb} {pending} setting{} of {}?",
        if pending == 1 { "" } else { "s" },
        report.scope_label
    );
    if !ui::confirm(&question, a.yes)? {
        return Err(crate::refuse("cancelled; nothing was changed"));
    }
    apply::apply(db, &mut report, &ctx, &path)?;
    emit(&report, style, false)?;
    Ok(ExitCode::SUCCESS)
}

/// JSON: the whole report. People: the plan (when it was not printed before asking) or the result.
fn emit(report: &ChangeReport, style: &Style, with_plan: bool) -> Result<()> {
    if style.json {
        return render::json(report);
    }
    let mut text = String::new();
    if with_plan {
        text.push_str(&render::tune::plan(report, style));
    }
    text.push_str(&render::tune::result(report, style));
    render::out(&text)
}

fn history_cmd(a: &TuneHistoryArgs, style: &Style) -> Result<ExitCode> {
    let path = history::path(a.history.as_deref())?;
    let h = history::History::load(&path)?;
    render::warnings(&h.unreadable_warnings());
    let report = HistoryReport {
        history_file: path.display().to_string(),
        entries: h.entries,
        skipped_lines: h.unreadable.len(),
        unreadable: h.unreadable,
    };
    if style.json {
        render::json(&report)?;
    } else {
        render::out(&render::tune::history(&report, style))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn presets_cmd(style: &Style) -> Result<ExitCode> {
    let report = PresetsReport {
        presets: presets::all(),
    };
    if style.json {
        render::json(&report)?;
    } else {
        render::out(&render::tune::presets(&report, style))?;
    }
    Ok(ExitCode::SUCCESS)
}
