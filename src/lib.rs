//! pgconn: diagnose and fix PostgreSQL connection exhaustion.
//!
//! # Map
//! Each layer imports only from the layers above it in this list (`tests/layers.rs` holds it so):
//!
//! | layer | modules | what it is |
//! | --- | --- | --- |
//! | data | `report`, `text`, `statement` | every result as plain serializable data (Session, State, Level, each command's plan and result); escaping of untrusted text; SQL with named parameter slots |
//! | rules | `analysis`, `exit`, `files` | capacity math, the verdict, the leak and pool rules; how a run ends; how every file pgconn writes is opened (never through a link, only a regular file of its own) |
//! | talking to people | `term` | prompts, progress, warnings, notes, the `--show-sql` echo: the only writer of stderr |
//! | reaching servers | `conninfo`, `wire`, `interrupt`, `host` | libpq-compatible connection options; a simple-query protocol client; stop signals; the database host without a connection (postmaster, /proc titles, pidfd signals) |
//! | one server | `db` | a connection, its facts, query helpers |
//! | the model | `activity`, `pgbouncer`, `fleet`, `sandbox` | which rows are client backends, filters, counts and snapshots in SQL; PgBouncer's console; many targets at once; throwaway clusters |
//! | commands | `commands/*`, `cli` | one room per command: collect → report, or plan → Plan and execute(Plan) → report; clap types, converted once into the model's option structs (`cli::convert`) |
//! | output | `render`, `tui` | report → tables, JSON, Prometheus, Nagios text (the only writer of stdout); watch's full-screen loop |
//! | sequencing | `lib` (`run`, `flow`), `main` | parse → command → render → confirm → execute → render → [`Exit`] |

use anyhow::Result;

pub mod activity;
pub mod analysis;
pub mod cli;
pub mod commands;
pub mod conninfo;
pub mod db;
pub mod exit;
pub mod files;
pub mod fleet;
mod flow;
pub mod host;
pub mod interrupt;
pub mod pgbouncer;
pub mod render;
pub mod report;
pub mod sandbox;
pub mod statement;
pub mod term;
pub mod text;
pub mod tui;
pub mod wire;

use cli::{Cli, Command};
use db::Db;
use exit::{refuse, Exit};
use render::Style;

/// A command line that did not parse: help and version go to stdout; a usage error is one line on
/// stderr, and for `check` also a plugin's UNKNOWN line on stdout.
pub fn unparsed(u: cli::Unparsed) -> Exit {
    match u {
        cli::Unparsed::Info(e) => match e.print() {
            Ok(()) => Exit::Success,
            Err(_) => Exit::Failure,
        },
        cli::Unparsed::Usage { line, check } => {
            term::error(&line);
            if check {
                // A closed stdout changes nothing: the exit code carries the state.
                let _ = render::out_raw(&render::check::nagios_unknown(&line));
                Exit::Nagios(report::Level::Unknown)
            } else {
                Exit::Usage
            }
        }
    }
}

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
    // Inconsistent thresholds are usage errors, refused before anything is sent.
    let thresholds = match &cli.command {
        Command::Status(a) => Some(&a.thresholds),
        Command::Advise(a) => Some(&a.thresholds),
        Command::Watch(a) => Some(&a.thresholds),
        _ => None,
    };
    if let Some(t) = thresholds {
        t.validate().map_err(refuse)?;
    }
    if let Command::Advise(a) = &cli.command {
        if !a.headroom.is_finite() || !(0.0..100.0).contains(&a.headroom) {
            return Err(refuse(format!(
                "--headroom {} is not a percent from 0 to below 100",
                a.headroom
            )));
        }
    }
    let mut conn = db::ConnOptions::from((&cli.conn, &cli.output));
    if cli.conn.break_glass.is_none() {
        conn.break_glass = default_break_glass(&cli.command, &conn);
    }
    let conn = &conn;
    let connect = || Db::connect_one(conn);
    match &cli.command {
        Command::Status(args) if commands::fleet::wants_status(conn, args) => {
            flow::fleet_status(conn, &cli.output, args, &style)
        }
        Command::Sessions(args) if fleet::is_many(conn) => {
            let results = commands::fleet::sessions(conn, args)?;
            flow::fleet_sessions(&results, &style)
        }
        Command::Check(args) => flow::check(commands::check::run(conn, &cli.output, args)),
        Command::Watch(args) => flow::watch(conn, &cli.output, args, &style),
        Command::Status(args) => {
            let req = commands::status::StatusRequest::from(args);
            let report = commands::status::collect(&mut connect()?, &req)?;
            flow::show(&report, &style, render::status::human)?;
            Ok(Exit::Success)
        }
        Command::Sessions(args) => {
            if style.json {
                // Written as read: thousands of sessions are never held at once.
                let mut sink = render::sessions::JsonSink::stdout();
                commands::sessions::stream(&mut connect()?, args, &mut sink)?;
                sink.finish()?;
            } else {
                let report = commands::sessions::collect(&mut connect()?, args)?;
                render::out(&render::sessions::human(&report, &style))?;
                term::warnings(&report.warnings);
            }
            Ok(Exit::Success)
        }
        Command::Advise(args) => {
            let report = commands::advise::collect(&mut connect()?, conn, args)?;
            flow::show(&report, &style, render::advise::human)?;
            Ok(Exit::Success)
        }
        Command::KillIdle(args) => {
            let (filter, action) = commands::kill::kill_idle_selection(args);
            flow::kill(&mut connect()?, filter, &args.safety, action, &style)
        }
        Command::Kill(args) => {
            let (filter, action) = commands::kill::kill_selection(args)?;
            flow::kill(&mut connect()?, filter, &args.safety, action, &style)
        }
        Command::Tune(args) => flow::tune(conn, args, &style),
        Command::Rescue(args) => flow::rescue(conn, args, &style),
        Command::Sandbox(args) => flow::sandbox(args),
        Command::Completions(args) => {
            render::out_raw(&commands::completions::script(args.shell)?)?;
            Ok(Exit::Success)
        }
    }
}
