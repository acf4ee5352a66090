//! `tune`: show, history and presets collect and show; set, reset and undo plan, show the plan,
//! confirm (the path kill and rescue take), apply and show what took effect.

use anyhow::Result;

use super::{confirmed, show};
use crate::cli::{TuneAction, TuneArgs};
use crate::commands;
use crate::commands::tune::{
    show::TuneShowRequest, TunePlan, TuneResetRequest, TuneSetRequest, TuneUndoRequest,
};
use crate::db::{ConnOptions, Db};
use crate::exit::Exit;
use crate::render::{self, Style};
use crate::report::tune::ChangeReport;
use crate::term;

/// `tune`: show, history and presets collect and show; set, reset and undo plan, show the plan,
/// confirm, execute and show what took effect.
pub fn tune(conn: &ConnOptions, args: &TuneArgs, style: &Style) -> Result<Exit> {
    let connect = || super::connect(conn);
    let plan = match &args.action {
        None | Some(TuneAction::Show(_)) => {
            let a = match &args.action {
                Some(TuneAction::Show(a)) => a,
                _ => &args.show,
            };
            let report = commands::tune::show::collect(&mut connect()?, &TuneShowRequest::from(a))?;
            show(&report, style, render::tune::show)?;
            return Ok(Exit::Success);
        }
        Some(TuneAction::History(a)) => {
            let h = commands::tune::load_history(a.history.as_deref())?;
            term::warnings(&h.unreadable_warnings());
            show(
                &commands::tune::history_report(h),
                style,
                render::tune::history,
            )?;
            return Ok(Exit::Success);
        }
        Some(TuneAction::Presets) => {
            show(
                &commands::tune::presets_report(),
                style,
                render::tune::presets,
            )?;
            return Ok(Exit::Success);
        }
        Some(TuneAction::Set(a)) => {
            let req = TuneSetRequest::try_from(a)?;
            let mut db = connect()?;
            let plan = commands::tune::plan_set(&mut db, &req)?;
            (db, plan)
        }
        Some(TuneAction::Reset(a)) => {
            let req = TuneResetRequest::try_from(a)?;
            let mut db = connect()?;
            let plan = commands::tune::plan_reset(&mut db, &req)?;
            (db, plan)
        }
        Some(TuneAction::Undo(a)) => {
            let req = TuneUndoRequest::from(a);
            let h = commands::tune::load_history(req.apply.history.as_deref())?;
            term::warnings(&h.unreadable_warnings());
            let mut db = connect()?;
            let plan = commands::tune::plan_undo(&mut db, &h, &req)?;
            (db, plan)
        }
    };
    let (mut db, plan) = plan;
    tune_change(&mut db, plan, style)
}

fn tune_change(db: &mut Db, plan: TunePlan, style: &Style) -> Result<Exit> {
    let plan = match confirmed(plan, style, preview, |_| None)? {
        Ok((plan, _)) => plan,
        Err(exit) => return Ok(exit),
    };
    let report = commands::tune::execute(db, plan)?;
    emit_change(&report, style)?;
    Ok(Exit::Success)
}

/// The plan; when it does not act (a dry run, nothing to change, the provider's commands instead of
/// ALTER SYSTEM), with what says so.
fn preview(report: &ChangeReport, style: &Style) -> String {
    let mut text = render::tune::plan(report, style);
    if report.dry_run || report.pending().next().is_none() || report.platform.is_some() {
        text.push_str(&render::tune::result(report, style));
    }
    text
}

/// JSON: the whole report. People: what took effect (the plan was shown before asking).
fn emit_change(report: &ChangeReport, style: &Style) -> Result<()> {
    if style.json {
        return render::json(report);
    }
    render::out(&render::tune::result(report, style))
}
