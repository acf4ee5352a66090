//! pgconn: diagnose and fix PostgreSQL connection exhaustion.
//!
//! Data flows one way: cli -> conninfo -> db -> activity / commands -> render.

use std::process::ExitCode;

use anyhow::Result;

pub mod activity;
pub mod cli;
pub mod commands;
pub mod conninfo;
pub mod db;
pub mod fleet;
pub mod interrupt;
pub mod pgbouncer;
pub mod render;
pub mod sandbox;
pub mod ui;
pub mod wire;

use cli::{Cli, Command};
use db::Db;
use render::Style;

/// Exit code for usage errors and refusals (no terminal and no --yes).
pub const EXIT_USAGE: u8 = 2;

/// An error that should exit with a specific code (e.g. 2 for a refusal) after its message is printed.
#[derive(Debug)]
pub struct ExitWith {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// A usage error or refusal: printed like any error, exit code 2.
pub fn refuse(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ExitWith {
        code: EXIT_USAGE,
        message: message.into(),
    })
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let wide = match &cli.command {
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
    let style = Style::from_args(&cli.output).wide(wide);
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
    match &cli.command {
        Command::Status(args) if commands::fleet::wants_status(&cli.conn, args) => {
            commands::fleet::status(&cli.conn, &cli.output, args, &style)
        }
        Command::Sessions(args) if fleet::is_many(&cli.conn) => {
            commands::fleet::sessions(&cli.conn, &cli.output, args, &style)
        }
        Command::Check(args) => commands::check::run(&cli.conn, &cli.output, args),
        Command::Watch(args) => commands::watch::run(&cli.conn, &cli.output, args, &style),
        Command::Status(args) => {
            let mut db = Db::connect_args(&cli.conn, cli.output.show_sql)?;
            commands::status::run(&mut db, args, &style)
        }
        Command::Sessions(args) => {
            let mut db = Db::connect_args(&cli.conn, cli.output.show_sql)?;
            commands::sessions::run(&mut db, args, &style)
        }
        Command::Tune(args) => commands::tune::run(&cli.conn, cli.output.show_sql, args, &style),
        Command::KillIdle(args) => {
            let mut db = Db::connect_args(&cli.conn, cli.output.show_sql)?;
            commands::kill::run_kill_idle(&mut db, args, &style)
        }
        Command::Kill(args) => {
            let mut db = Db::connect_args(&cli.conn, cli.output.show_sql)?;
            commands::kill::run_kill(&mut db, args, &style)
        }
        Command::Advise(args) => {
            let mut db = Db::connect_args(&cli.conn, cli.output.show_sql)?;
            commands::advise::run(&mut db, &cli.conn, args, &style)
        }
        Command::Sandbox(args) => commands::sandbox::run(args),
        Command::Completions(args) => commands::completions::run(args),
    }
}
