//! `status` (one server or many, any format) and `sessions` over several targets.

use anyhow::{anyhow, Result};

use super::{report_failures, say_reached, say_target_warnings};
use crate::commands::{self, status::StatusFormat, status::StatusRequest};
use crate::db::ConnOptions;
use crate::exit::Exit;
use crate::render::{self, output::emit, output::emit_exposition, prometheus, Style};
use crate::report::fleet::TargetResult;
use crate::report::sessions::SessionsReport;
use crate::{fleet, term};

/// `status`: one path for one server or many, in any format, collected through the fleet (one server on
/// the calling thread, with the connection a person's command gets: a password asked as psql would, the
/// WAL sender route when the server is full). JSON with several targets is an
/// array in the targets' order, one `{"target", "ok", "error", "error_kind", "sqlstate", "report"}`
/// per target. Exit 0 when every target answered, 1 otherwise (the others are still reported).
/// What is written says what was found, failures included (a scraper must never read the last good
/// numbers during an outage): Prometheus text gives a target that failed `pgconn_up 0` and
/// `pgconn_scrape_error{kind}`, and several targets' tables and JSON carry their failed rows. Only the
/// table or JSON of one server, which has no shape for a failure, leaves `--output` as it was.
pub fn status(conn: &ConnOptions, args: &StatusRequest, style: &Style) -> Result<Exit> {
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
        let connection = o.result.as_ref().ok().map(|r| &r.connection);
        say_reached(&o.target, false, connection, &o.warnings);
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
        match (format, output) {
            // On stdout as every report about one server: laid out for the terminal, JSON as it is
            // serialized.
            (StatusFormat::Table, None) => render::out(&render::status::human(&report, &style))?,
            (StatusFormat::Json, None) => render::json(&report)?,
            (StatusFormat::Table, Some(_)) => {
                emit(&render::status::human(&report, &style), output)?
            }
            (StatusFormat::Json, Some(_)) => emit(&render::pretty_json(&report)?, output)?,
            (StatusFormat::Prometheus, _) => {
                emit_exposition(&prometheus::status(&[(&o.target, Ok(&report))]), output)?
            }
        }
        return Ok(Exit::Success);
    }
    let results: Vec<TargetResult<_>> = outcomes
        .into_iter()
        .map(fleet::TargetOutcome::into_result)
        .collect();
    say_target_warnings(&results, |r| &r.connection, true);
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
    say_target_warnings(results, |r| &r.connection, true);
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
