//! The sequences of the commands that do more than collect and show, for [`crate::run`]: plan, show the
//! plan, confirm, execute, show what happened, and how the run ends ([`Exit`]).
use anyhow::{anyhow, Result};
use serde::Serialize;

use crate::cli::{TuneAction, TuneArgs};
use crate::commands::check::{CheckFormat, CheckRun};
use crate::commands::kill::KillRequest;
use crate::commands::rescue::RescueRequest;
use crate::commands::sandbox::{SandboxRequest, Started};
use crate::commands::status::{StatusFormat, StatusRequest};
use crate::commands::tune::{
    show::TuneShowRequest, TunePlan, TuneResetRequest, TuneSetRequest, TuneUndoRequest,
};
use crate::commands::watch::WatchRequest;
use crate::commands::{self, SignalPlan};
use crate::db::{ConnOptions, Db};
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::render::{self, output::emit, output::emit_exposition, prometheus, Style};
use crate::report::fleet::TargetResult;
use crate::report::sessions::SessionsReport;
use crate::report::tune::ChangeReport;
use crate::report::Level;
use crate::{fleet, term};

/// JSON, or the layout for people.
pub fn show<T: Serialize>(
    report: &T,
    style: &Style,
    human: fn(&T, &Style) -> String,
) -> Result<()> {
    if style.json {
        render::json(report)
    } else {
        render::out(&human(report, style))
    }
}

/// `Ok(true)` when written, `Ok(false)` when stdout is closed (a reader like `head` went away): what
/// was done does not depend on whether it could be shown. Other write errors stay errors.
fn tolerate_closed_stdout(written: Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(true),
        Err(e) if render::is_closed_stdout(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Each failed target on stderr; [`Exit::Failure`] when there was one.
fn report_failures<T>(results: &[TargetResult<T>]) -> Exit {
    let mut failed = false;
    for r in results {
        if let Err(msg) = r.outcome() {
            failed = true;
            term::error(&if msg.contains(&r.target) {
                msg.to_string()
            } else {
                format!("{}: {msg}", r.target)
            });
        }
    }
    if failed {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// `status` over several targets, or with `--format` / `--output`. JSON with several targets is an
/// array in the targets' order, one `{"target", "ok", "error", "error_kind", "sqlstate", "report"}`
/// per target. Exit 0 when every target answered, 1 otherwise (the others are still reported).
/// What is written says what was found, failures included (a scraper must never read the last good
/// numbers during an outage): Prometheus text gives a target that failed `pgconn_up 0` and
/// `pgconn_scrape_error{kind}`, and several targets' tables and JSON carry their failed rows. Only the
/// table or JSON of one server, which has no shape for a failure, leaves `--output` as it was.
pub fn fleet_status(conn: &ConnOptions, args: &StatusRequest, style: &Style) -> Result<Exit> {
    let format = args.format.unwrap_or(if style.json {
        StatusFormat::Json
    } else {
        StatusFormat::Table
    });
    let many = fleet::is_many(conn);
    let outcomes = commands::fleet::status(conn, args)?;
    // A file gets plain text: no colour, nothing fitted to a terminal.
    let style = match &args.output {
        Some(_) => Style {
            color: false,
            json: style.json,
            width: None,
        },
        None => *style,
    };
    let output = args.output.as_deref();
    if !many {
        let o = outcomes
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no target"))?;
        let report = match o.result {
            Ok(r) => r,
            Err(e) => {
                if format == StatusFormat::Prometheus {
                    let text = prometheus::status(&[(&o.target, Err(fleet::classify(&e)))]);
                    if let Err(w) = emit_exposition(&text, output) {
                        // Both matter: why nothing was collected, and that the file still holds the last run.
                        term::error(&format!("{e:#}"));
                        return Err(w);
                    }
                }
                return Err(e);
            }
        };
        match format {
            StatusFormat::Table => emit(&render::status::human(&report, &style), output)?,
            StatusFormat::Json => emit(&render::pretty_json(&report)?, output)?,
            StatusFormat::Prometheus => {
                emit_exposition(&prometheus::status(&[(&o.target, Ok(&report))]), output)?
            }
        }
        return Ok(Exit::Success);
    }
    let results: Vec<TargetResult<_>> = outcomes
        .into_iter()
        .map(fleet::TargetOutcome::into_result)
        .collect();
    let exit = report_failures(&results);
    match format {
        StatusFormat::Table => emit(
            &render::fleet::status(&results, args.grouping.top, &style),
            output,
        )?,
        StatusFormat::Json => emit(&render::pretty_json(&results)?, output)?,
        StatusFormat::Prometheus => {
            let collected: Vec<_> = results
                .iter()
                .map(|r| (r.target.as_str(), r.collected()))
                .collect();
            emit_exposition(&prometheus::status(&collected), output)?
        }
    }
    Ok(exit)
}

/// `sessions` over several targets: one table (or a JSON array), warnings per target, exit 1 when one
/// failed.
pub fn fleet_sessions(results: &[TargetResult<SessionsReport>], style: &Style) -> Result<Exit> {
    if style.json {
        render::json(&results)?;
    } else {
        render::out(&render::fleet::sessions(results, style))?;
        for r in results {
            if let Some(report) = &r.report {
                for w in &report.warnings {
                    term::warning(&format!("{}: {w}", r.target));
                }
            }
        }
    }
    Ok(report_failures(results))
}

/// `check`: the plugin output in its format (to --output, atomically, when given) and the Nagios
/// state as the exit code, whatever happens (a failure to write the output is UNKNOWN).
pub fn check(run: CheckRun) -> Result<Exit> {
    let (report, format, many, output) = match run {
        CheckRun::Unknown { format, message } => return unknown(format, &message),
        CheckRun::Judged {
            report,
            format,
            many,
            output,
        } => (report, format, many, output),
    };
    let output = output.as_deref();
    let written = match format {
        CheckFormat::Nagios => emit(&render::check::nagios(&report, many), output),
        CheckFormat::Json => emit(&render::pretty_json(&report)?, output),
        CheckFormat::Prometheus => emit_exposition(&render::check::prometheus(&report), output),
    };
    if let Err(e) = written {
        if render::is_closed_stdout(&e) {
            return Err(e);
        }
        return unknown(CheckFormat::Nagios, &fleet::one_line(&e));
    }
    Ok(Exit::Nagios(report.status))
}

/// An UNKNOWN result for a failure before any target was judged: the error on stderr, the plugin
/// line (or JSON) on stdout.
fn unknown(format: CheckFormat, message: &str) -> Result<Exit> {
    term::error(message);
    let text = match format {
        CheckFormat::Nagios => Some(render::check::nagios_unknown(message)),
        CheckFormat::Json => Some(render::check::unknown_json(message)?),
        // Nothing to scrape: the exit code says it.
        CheckFormat::Prometheus => None,
    };
    if let Some(text) = text {
        render::out_raw(&text)?;
    }
    Ok(Exit::Nagios(Level::Unknown))
}

/// `watch`: full-screen on a terminal (unless --json), one line (or JSON object) per round
/// otherwise. After --count rounds, exit 1 when the last one did not reach every target.
pub fn watch(conn: &ConnOptions, args: &WatchRequest, style: &Style) -> Result<Exit> {
    use std::io::IsTerminal;
    let sampler = commands::watch::start(conn, args)?;
    let full_screen = std::io::stdout().is_terminal() && !style.json;
    let last = if full_screen {
        crate::tui::watch(&sampler.rounds, &sampler.stop, style)?
    } else {
        let mut last = None;
        for round in sampler.rounds.iter() {
            let text = if style.json {
                render::watch::json_lines(&round)?
            } else {
                render::watch::lines(&round)
            };
            render::out(&text)?;
            last = Some(round);
        }
        last
    };
    let reached = commands::watch::all_reached(last.as_ref(), args);
    sampler.stop();
    Ok(if reached {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Show a plan and ask: `Ok((plan, said))` to act on it, `Err(exit)` when the run ends here (nothing to
/// do, recorded; or the answer was no). A closed stdout (`| head`) does not stop the run, nor change its
/// exit code; but a person is never asked without seeing the plan: when it could not go to stdout (or
/// stdout carries JSON), it goes to stderr, with the prompt. It is laid out only where it can be seen.
/// The plan's warnings are part of it: said before the question (or before acting, with --yes), never
/// after the answer; `said` is how many, so that only later ones are said afterwards. Directly above the
/// question, one line repeats what is left alone (`left_alone`), however long the preview.
fn confirmed<P: SignalPlan>(
    plan: P,
    style: &Style,
    preview: fn(&P::Report, &Style) -> String,
    left_alone: fn(&P::Report) -> Option<String>,
) -> Result<std::result::Result<(P, usize), Exit>> {
    let quiet = plan.quiet();
    let seen = !quiet && (!style.json || (!plan.yes() && term::interactive()));
    let preview = if seen {
        preview(plan.report(), style)
    } else {
        String::new()
    };
    let shown = !style.json && seen && tolerate_closed_stdout(render::out(&preview))?;
    if !plan.acts() {
        let report = plan.record_without_acting()?;
        let incomplete = P::incomplete(&report);
        if style.json && (!quiet || incomplete) {
            render::json(&report)?;
        }
        term::warnings(P::warnings(&report));
        return Ok(Err(if incomplete {
            Exit::Failure
        } else {
            Exit::Success
        }));
    }
    let asking = !plan.yes() && term::interactive();
    if !shown && asking {
        term::show(&preview);
    }
    let warnings = P::warnings(plan.report());
    term::warnings(warnings);
    let said = warnings.len();
    if asking {
        if let Some(line) = left_alone(plan.report()) {
            term::show(&format!("{line}\n"));
        }
    }
    if !term::confirm(&plan.question(), plan.yes())? {
        term::note("cancelled; nothing was done");
        if style.json {
            render::json(plan.report())?;
        }
        return Ok(Err(Exit::Usage));
    }
    Ok(Ok((plan, said)))
}

/// `kill` / `kill-idle`: plan, show the plan, confirm, execute, show what happened.
pub fn kill(db: &mut Db, req: KillRequest, style: &Style) -> Result<Exit> {
    let (quiet, batch_size) = (req.safety.quiet, req.safety.batch_size);
    let plan = commands::kill::plan(db, req)?;
    let (plan, said) = match confirmed(
        plan,
        style,
        render::kill::preview,
        render::kill::left_alone_line,
    )? {
        Ok(confirmed) => confirmed,
        Err(exit) => return Ok(exit),
    };
    // From here on a stop signal ends the run after the batch in flight, recorded.
    let interrupt = Interrupt::install()?;
    let targets = plan.report.targets.len();
    let bar = term::progress_if(targets > batch_size, targets as u64, "signalled");
    let done = commands::kill::execute(db, plan, &interrupt, &mut |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let report = &done.report;
    let s = &report.summary;
    // (Sessions this role cannot see are said by their warning, and the exit code.)
    let went_wrong = s.denied + s.failed + s.unknown + s.signalled > 0
        || done.failure.is_some()
        || done.signal.is_some();
    let output_error = if !quiet || went_wrong {
        tolerate_closed_stdout(show(report, style, render::kill::results)).err()
    } else if s.terminated + s.cancelled > 0 {
        // --quiet, and something was done: one line says what (JSON: the report).
        let written = if style.json {
            render::json(report)
        } else {
            render::out(&render::kill::summary_line(
                s,
                true,
                report.log.as_deref(),
                report.log_complete,
            ))
        };
        tolerate_closed_stdout(written).err()
    } else {
        None
    };
    term::warnings(&report.warnings[said.min(report.warnings.len())..]);
    ended(
        Ended {
            noun: "sessions",
            handled: report.results.len(),
            all: report.targets.len(),
            summary: s,
            cancelled: true,
        },
        done.signal,
        done.failure,
        output_error,
        s.denied + s.failed + s.unknown > 0 || report.not_visible > 0,
    )
}

/// What a run that signalled sessions did, for [`ended`].
struct Ended<'a> {
    /// `sessions` or `backends`.
    noun: &'a str,
    handled: usize,
    all: usize,
    summary: &'a crate::report::kill::Summary,
    /// Whether the run could cancel queries (kill's): the counts say how many it did.
    cancelled: bool,
}

/// How a run that signalled sessions ends (kill's, rescue's): a stop signal is said and is the exit
/// code; an error that stopped it says how far it got; a failure to show the results is an error;
/// otherwise exit 1 when `failed`.
fn ended(
    e: Ended,
    signal: Option<crate::interrupt::Signal>,
    failure: Option<anyhow::Error>,
    output_error: Option<anyhow::Error>,
    failed: bool,
) -> Result<Exit> {
    let Ended {
        noun,
        handled,
        all,
        summary,
        cancelled,
    } = e;
    if let Some(sig) = signal {
        term::note(&format!(
            "{} received: stopped after {handled} of {all} {noun}; nothing further was signalled",
            sig.name(),
        ));
        if failure.is_none() {
            return Ok(Exit::Signal(sig.0));
        }
    }
    if let Some(e) = failure {
        let counts = if cancelled {
            format!(
                "{} terminated, {} cancelled",
                summary.terminated, summary.cancelled
            )
        } else {
            format!("{} terminated", summary.terminated)
        };
        let what = if handled < all {
            format!(
                "stopped after {handled} of {all} {noun} ({counts}); the rest were not signalled"
            )
        } else {
            format!("all {all} {noun} were handled ({counts}), but")
        };
        return Err(e.context(what));
    }
    if let Some(e) = output_error {
        return Err(e.context(format!(
            "the {noun} were handled (see --log, if given), but the results could not be written"
        )));
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// `rescue`: plan from /proc, show the plan, confirm, signal, show what happened and the status a
/// normal connection sees afterwards. Exit 1 when a target could not be signalled or did not exit.
pub fn rescue(conn: &ConnOptions, req: &RescueRequest, style: &Style) -> Result<Exit> {
    let (plan, said) = match confirmed(
        commands::rescue::plan(req)?,
        style,
        render::rescue::preview,
        render::rescue::left_alone_line,
    )? {
        Ok(confirmed) => confirmed,
        Err(exit) => return Ok(exit),
    };
    let interrupt = Interrupt::install()?;
    let targets = plan.report.targets.len();
    let postmaster = plan.postmaster().clone();
    let bar = term::progress_if(
        targets > commands::rescue::BATCH,
        targets as u64,
        "signalled",
    );
    let mut done =
        commands::rescue::execute(plan, &interrupt, &mut |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    if done.signal.is_none() && done.report.summary.terminated > 0 {
        done.report.after = Some(commands::rescue::after(conn, &postmaster));
    }
    let report = &done.report;
    let output_error = tolerate_closed_stdout(show(report, style, render::rescue::results)).err();
    term::warnings(&report.warnings[said.min(report.warnings.len())..]);
    let s = &report.summary;
    ended(
        Ended {
            noun: "backends",
            handled: report.results.len(),
            all: report.targets.len(),
            summary: s,
            cancelled: false,
        },
        done.signal,
        done.failure,
        output_error,
        s.denied + s.failed + s.unknown + s.signalled > 0 || !report.untrusted.is_empty(),
    )
}

/// `tune`: show, history and presets collect and show; set, reset and undo plan, show the plan,
/// confirm, execute and show what took effect.
pub fn tune(conn: &ConnOptions, args: &TuneArgs, style: &Style) -> Result<Exit> {
    let connect = || Db::connect_one(conn);
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

fn tune_change(db: &mut Db, mut plan: TunePlan, style: &Style) -> Result<Exit> {
    if !plan.acts() {
        emit_change(&plan.report, style, true)?;
        return Ok(Exit::Success);
    }
    plan.ready()?;
    if !style.json {
        render::out(&render::tune::plan(&plan.report, style))?;
    } else if !plan.yes() && term::interactive() {
        // stdout carries only the JSON; the person answering still sees what they are asked about.
        term::show(&render::tune::plan(&plan.report, style));
    }
    if !term::confirm(&plan.question(), plan.yes())? {
        return Err(crate::exit::refuse("cancelled; nothing was changed"));
    }
    let report = commands::tune::execute(db, plan)?;
    emit_change(&report, style, false)?;
    Ok(Exit::Success)
}

/// JSON: the whole report. People: the plan (when it was not printed before asking) and the result.
fn emit_change(report: &ChangeReport, style: &Style, with_plan: bool) -> Result<()> {
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

/// `sandbox`: start it; then run the given pgconn command against it, or print the exports and wait
/// for Ctrl-C. It is removed either way.
pub fn sandbox(args: &SandboxRequest) -> Result<Exit> {
    let sandbox = match commands::sandbox::start(args, &term::say)? {
        Started::Running(s) => s,
        Started::Interrupted(message) => {
            term::say(&message);
            return Ok(Exit::Signal(nix::sys::signal::Signal::SIGINT as i32));
        }
    };
    if !args.args.is_empty() {
        return Ok(Exit::Child(sandbox.run_child(&args.args)?));
    }
    // stdout may be closed already; the sandbox still runs until Ctrl-C.
    let _ = render::out_raw(&sandbox.exports());
    term::say(&sandbox.banner(args));
    sandbox.run_until_signal(&term::say);
    Ok(Exit::Success)
}
