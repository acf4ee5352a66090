//! `kill` and `kill-idle`: plan, show, confirm, signal in batches, show what happened.

use anyhow::Result;

use super::{confirmed, ended, show, tolerate_closed_stdout, Ended};
use crate::commands::{self, kill::KillRequest};
use crate::db::Db;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::render::{self, Style};
use crate::term;

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
    let s = &report.run.summary;
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
                report.run.log.as_deref(),
                report.run.log_complete,
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
            handled: report.run.results.len(),
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
