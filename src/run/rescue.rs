//! `rescue`: plan from /proc, show, confirm, signal, show what happened and what a normal connection
//! sees afterwards.

use anyhow::Result;

use super::{confirmed, ended, show, tolerate_closed_stdout, Ended};
use crate::commands::{self, rescue::RescueRequest};
use crate::db::ConnOptions;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::render::{self, Style};
use crate::term;

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
    if done.signal.is_none() && done.report.run.summary.terminated > 0 {
        let after = commands::rescue::after(conn, &postmaster);
        let connection = after.status.as_ref().map(|s| &s.connection);
        super::say_reached(&after.target, false, connection, &after.warnings);
        done.report.run.observed.after = Some(after);
    }
    let report = &done.report;
    let output_error = tolerate_closed_stdout(show(report, style, render::rescue::results)).err();
    term::warnings(&report.warnings[said.min(report.warnings.len())..]);
    let s = &report.run.summary;
    ended(
        Ended {
            noun: "backends",
            handled: report.run.results.len(),
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
