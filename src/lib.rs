//! pgconn: diagnose and fix PostgreSQL connection exhaustion.
//!
//! # Map
//! Each layer imports only from the layers above it in this list (`tests/layers.rs` holds it so):
//!
//! | layer | modules | what it is |
//! | --- | --- | --- |
//! | data | `report`, `text`, `statement`, `setting` (which reads units from `report`) | every result as plain serializable data (Session, State, Level, each command's plan and result); escaping of untrusted text; SQL with named parameter slots; values of settings as PostgreSQL reads them |
//! | rules | `analysis`, `exit`, `files` | capacity math, the verdict, the leak and pool rules; how a run ends; how every file pgconn writes is opened (never through a link, only a regular file of its own) |
//! | talking to people | `term` | prompts, progress, warnings, notes, the `--show-sql` echo: the only writer of stderr |
//! | reaching servers | `conninfo`, `wire`, `interrupt`, `host` | libpq-compatible connection options; a simple-query protocol client; stop signals; the database host without a connection (postmaster, /proc titles, pidfd signals) |
//! | one server | `db` | a connection, its facts, query helpers |
//! | the model | `activity`, `pgbouncer`, `fleet`, `sandbox` | which rows are client backends, filters, counts and snapshots in SQL; PgBouncer's console; many targets at once; throwaway clusters |
//! | commands | `commands/*` | one room per command, each taking a request (`StatusRequest`, `KillRequest`, …) that any front end builds: collect → report, or plan → Plan and execute(Plan) → report |
//! | the command line | `cli` | clap types, converted once into each command's request (`cli::convert`); completions and man pages generated from its definitions |
//! | output | `render`, `tui` | report → tables, JSON, Prometheus, Nagios text (the only writer of stdout); watch's full-screen loop |
//! | sequencing | `lib`, `run` (one file per command sequence; `run/exporter/` is the exporter's HTTP server, a front end that, like `cli`, builds requests and renders reports), `main` | parse → command → render → confirm → execute → render → [`Exit`] |

#![forbid(unsafe_code)]

pub mod activity;
pub mod analysis;
pub mod cli;
pub mod commands;
pub mod conninfo;
pub mod db;
pub mod exit;
pub mod files;
pub mod fleet;
pub mod host;
pub mod interrupt;
pub mod pgbouncer;
pub mod render;
pub mod report;
mod run;
pub mod sandbox;
pub mod setting;
pub mod statement;
pub mod term;
pub mod text;
pub mod tui;
pub mod wire;

use exit::Exit;

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

pub use run::run;
