//! `check`: the plugin's output and the Nagios state as the exit code.

use anyhow::Result;

use super::say_reached;
use crate::commands::check::{CheckFormat, CheckRun};
use crate::exit::Exit;
use crate::render::{self, output::emit, output::emit_exposition};
use crate::report::Level;
use crate::{fleet, term};

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
    // What connecting had to say, on stderr as before any other command's output (the plugin's own
    // output stays as Nagios reads it).
    for t in &report.targets {
        let connection = t.report.as_ref().map(|r| &r.connection);
        say_reached(&t.target, many, connection, &t.warnings);
    }
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
