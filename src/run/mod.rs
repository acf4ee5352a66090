//! The sequences of the commands, for [`crate::run`]: each command line becomes its request, then the
//! command collects (or plans, shows the plan, confirms, executes) and its report is shown; how the run
//! ends is an [`Exit`]. One file per command sequence; the steps they share are here: showing a report,
//! a stdout that went away, failed targets, the one plan → confirm path ([`confirmed`]) and how a run
//! that signalled sessions ends ([`ended`]).

use anyhow::Result;
use serde::Serialize;

use crate::cli::{self, convert, Cli, Command};
use crate::commands::{self, Plan};
use crate::db::{self, Db};
use crate::exit::Exit;
use crate::render::{self, Style};
use crate::report::fleet::TargetResult;
use crate::{fleet, term};

mod check;
mod exporter;
mod kill;
mod rescue;
mod sandbox;
mod status;
mod tune;
mod watch;

/// `--break-glass` when not given: `auto` where a person asks about one server (status, sessions,
/// kill-idle, kill, advise); `never` for monitoring and scraping (check, watch, several targets,
/// Prometheus text, `status --output`), which must not take the WAL sender slots a standby may need, and
/// for tune and the rest.
fn default_break_glass(command: &Command, conn: &db::ConnOptions) -> db::BreakGlass {
    let person = match command {
        Command::Status(a) => a.format != Some(cli::StatusFormat::Prometheus) && a.output.is_none(),
        Command::Sessions(_) | Command::KillIdle(_) | Command::Kill(_) | Command::Advise(_) => true,
        _ => false,
    };
    if person && !conn.names_many() {
        db::BreakGlass::Auto
    } else {
        db::BreakGlass::Never
    }
}

/// Run a parsed command line: check what can be checked without a server, then for each command
/// collect (or plan, show, confirm and execute), render, and say how it ended.
pub fn run(cli: Cli) -> Result<Exit> {
    let wide = match &cli.command {
        Command::Status(a) => a.wide,
        Command::Sessions(a) => a.wide,
        Command::KillIdle(a) => a.wide,
        Command::Kill(a) => a.wide,
        Command::Tune(a) => match &a.action {
            None => a.show.wide,
            Some(cli::TuneAction::Show(s)) => s.wide,
            Some(_) => false,
        },
        _ => false,
    };
    let style = Style::detect(cli.output.color.into(), cli.output.json).wide(wide);
    let mut conn = db::ConnOptions::from((&cli.conn, &cli.output));
    if cli.conn.break_glass.is_none() {
        conn.break_glass = default_break_glass(&cli.command, &conn);
    }
    let conn = &conn;
    let connect = || connect(conn);
    // Each command line becomes its request here (inconsistent options are usage errors, refused before
    // anything is sent); below this, nothing knows clap.
    match &cli.command {
        Command::Status(args) => {
            status::status(conn, &convert::status_request(args, &cli.output)?, &style)
        }
        Command::Sessions(args) if fleet::is_many(conn) => {
            let results = commands::fleet::sessions(conn, &args.into())?;
            status::fleet_sessions(&results, &style)
        }
        Command::Check(args) => check::check(match convert::check_request(args, &cli.output) {
            Ok(req) => commands::check::run(conn, &req),
            Err(unknown) => unknown,
        }),
        Command::Watch(args) => watch::watch(conn, &args.try_into()?, &style),
        Command::Sessions(args) => {
            let req = args.into();
            if style.json {
                // Written as read: thousands of sessions are never held at once.
                let mut sink = render::sessions::JsonSink::stdout();
                commands::sessions::stream(&mut connect()?, &req, &mut sink)?;
                sink.finish()?;
            } else {
                let report = commands::sessions::collect(&mut connect()?, &req)?;
                render::out(&render::sessions::human(&report, &style))?;
                term::warnings(&report.warnings);
            }
            Ok(Exit::Success)
        }
        Command::Advise(args) => {
            let req = args.try_into()?;
            let report = commands::advise::collect(&mut connect()?, conn, &req)?;
            show(&report, &style, render::advise::human)?;
            Ok(Exit::Success)
        }
        Command::KillIdle(args) => kill::kill(&mut connect()?, args.into(), &style),
        Command::Kill(args) => {
            let req = args.try_into()?;
            kill::kill(&mut connect()?, req, &style)
        }
        Command::Tune(args) => tune::tune(conn, args, &style),
        Command::Rescue(args) => rescue::rescue(conn, &args.try_into()?, &style),
        Command::Exporter(args) => {
            exporter::exporter(conn, &convert::exporter_request(args, &cli.conn)?)
        }
        Command::Sandbox(args) => sandbox::sandbox(&args.into()),
        Command::Completions(args) => {
            render::out_raw(&cli::completions::script(args.shell)?)?;
            Ok(Exit::Success)
        }
    }
}

/// Connect to the one target, saying what connecting had to say on stderr: the connection options'
/// warnings before (a password prompt may follow), the route's warnings and notes once it got in. The
/// report carries them all in its `connection`.
pub(crate) fn connect(conn: &db::ConnOptions) -> Result<Db> {
    let spec = db::resolve_one(conn)?;
    term::warnings(spec.warnings());
    let said = spec.warnings().len();
    let db = Db::connect(spec, conn.password_prompt, conn.show_sql, conn.break_glass)?;
    let route = db.route();
    term::warnings(&route.warnings[said.min(route.warnings.len())..]);
    for n in &route.notes {
        term::note(n);
    }
    Ok(db)
}

/// Each target's warnings, once (see [`say_reached`]); named by target when there are several.
pub(crate) fn say_target_warnings<T>(
    results: &[TargetResult<T>],
    connection: fn(&T) -> &crate::report::ConnectionRoute,
    many: bool,
) {
    for r in results {
        say_reached(
            &r.target,
            many,
            r.report.as_ref().map(connection),
            &r.warnings,
        );
    }
}

/// A target's warnings: those of its connection when it was reached (the route's included, with its
/// notes), those of its connection options (`unreached`) otherwise.
pub(crate) fn say_reached(
    target: &str,
    many: bool,
    connection: Option<&crate::report::ConnectionRoute>,
    unreached: &[String],
) {
    match connection {
        Some(c) => say_warnings(target, many, &c.warnings, &c.notes),
        None => say_warnings(target, many, unreached, &[]),
    }
}

/// A target's warnings and notes, named by the target when there are several.
pub(crate) fn say_warnings(target: &str, many: bool, warnings: &[String], notes: &[String]) {
    let named = |w: &String| {
        if many {
            format!("{target}: {w}")
        } else {
            w.clone()
        }
    };
    term::warnings(&warnings.iter().map(named).collect::<Vec<_>>());
    for n in notes {
        term::note(&named(n));
    }
}

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
pub(crate) fn tolerate_closed_stdout(written: Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(true),
        Err(e) if render::is_closed_stdout(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Each failed target on stderr; [`Exit::Failure`] when there was one.
pub(crate) fn report_failures<T>(results: &[TargetResult<T>]) -> Exit {
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

/// Show a plan and ask (kill, rescue and tune alike): `Ok((plan, said))` to act on it, `Err(exit)` when the run ends here (nothing to
/// do, recorded; or the answer was no). A closed stdout (`| head`) does not stop the run, nor change its
/// exit code; but a person is never asked without seeing the plan: when it could not go to stdout (or
/// stdout carries JSON), it goes to stderr, with the prompt. It is laid out only where it can be seen.
/// The plan's warnings are part of it: said before the question (or before acting, with --yes), never
/// after the answer; `said` is how many, so that only later ones are said afterwards. Directly above the
/// question, one line repeats what is left alone (`left_alone`), however long the preview.
pub(crate) fn confirmed<P: Plan>(
    plan: P,
    style: &Style,
    preview: fn(&P::Report, &Style) -> String,
    left_alone: fn(&P::Report) -> Option<String>,
) -> Result<std::result::Result<(P, usize), Exit>> {
    let mut plan = plan;
    // What must hold before anyone is asked (tune's history file) is checked before the plan is shown.
    if plan.acts() {
        plan.ready()?;
    }
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
    // One answer to a "no" everywhere: said, exit 2, and the plan as JSON when JSON was asked for.
    if !term::confirm(&plan.question(), plan.yes())? {
        term::note("cancelled; nothing was done");
        if style.json {
            render::json(plan.report())?;
        }
        return Ok(Err(Exit::Usage));
    }
    Ok(Ok((plan, said)))
}

/// What a run that signalled sessions did, for [`ended`].
pub(crate) struct Ended<'a> {
    /// `sessions` or `backends`.
    pub noun: &'a str,
    pub handled: usize,
    pub all: usize,
    pub summary: &'a crate::report::batch::Summary,
    /// Whether the run could cancel queries (kill's): the counts say how many it did.
    pub cancelled: bool,
}

/// How a run that signalled sessions ends (kill's, rescue's): a stop signal is said and is the exit
/// code; an error that stopped it says how far it got; a failure to show the results is an error;
/// otherwise exit 1 when `failed`.
pub(crate) fn ended(
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
