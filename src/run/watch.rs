//! `watch`: full-screen on a terminal, a line (or JSON object) per round otherwise.

use anyhow::Result;

use crate::commands::{self, watch::WatchRequest};
use crate::db::ConnOptions;
use crate::exit::Exit;
use crate::render::{self, Style};

/// `watch`: full-screen on a terminal (unless --json), one line (or JSON object) per round
/// otherwise. After --count rounds, exit 1 when the last one did not reach every target.
pub fn watch(conn: &ConnOptions, args: &WatchRequest, style: &Style) -> Result<Exit> {
    use std::io::IsTerminal;
    let sampler = commands::watch::start(conn, args)?;
    let many = crate::fleet::is_many(conn);
    for (target, warnings) in &sampler.warnings {
        super::say_warnings(target, many, warnings, &[]);
    }
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
    let record_error = sampler.record_error.lock().ok().and_then(|e| e.clone());
    sampler.stop();
    if let (Some(e), Some(path)) = (&record_error, &args.record) {
        crate::term::warning(&format!(
            "watch --record: writing {} failed ({e}); the recording stopped there",
            path.display()
        ));
        return Ok(Exit::Failure);
    }
    Ok(if reached {
        Exit::Success
    } else {
        Exit::Failure
    })
}
