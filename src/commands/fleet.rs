//! `status` and `sessions` over several targets, and `status --format` / `--output`.
//!
//! JSON with several targets is an array in the targets' order, one object per target:
//! `{"target", "ok", "error", "error_kind", "sqlstate", "report"}` where `report` is the one-target JSON
//! (null when the target failed). Exit status: 0 when every target answered, 1 otherwise (the others
//! are still reported).

use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::cli::{ConnArgs, OutputArgs, SessionsArgs, StatusArgs, StatusFormat};
use crate::commands::{sessions, status};
use crate::fleet::{self, RunOptions, TargetOutcome};
use crate::render::{self, output::emit, prometheus, Style};
use crate::report::fleet::TargetResult;

/// Whether `status` takes this path rather than the plain one-server one.
pub fn wants_status(conn: &ConnArgs, args: &StatusArgs) -> bool {
    fleet::is_many(conn) || args.format.is_some() || args.output.is_some()
}

/// The format asked for: `--format`, or `--json`, or a table.
pub fn status_format(args: &StatusArgs, out: &OutputArgs) -> Result<StatusFormat> {
    match (args.format, out.json) {
        (Some(StatusFormat::Json) | None, true) => Ok(StatusFormat::Json),
        (Some(f), false) => Ok(f),
        (None, false) => Ok(StatusFormat::Table),
        (Some(_), true) => Err(crate::refuse(
            "--json is short for --format json; give one or the other",
        )),
    }
}

/// Report each failed target on stderr; the exit code of a run with failures.
fn report_failures<T>(outcomes: &[TargetResult<T>]) -> ExitCode {
    let mut failed = 0;
    for o in outcomes {
        if let Err(msg) = o.outcome() {
            failed += 1;
            let msg = msg.to_string();
            let line = if msg.contains(&o.target) {
                msg
            } else {
                format!("{}: {msg}", o.target)
            };
            eprintln!("pgconn: error: {}", render::clean(&line));
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn pretty_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

fn plain(style: &Style) -> Style {
    Style {
        color: false,
        json: style.json,
        width: None,
    }
}

pub fn status(
    conn: &ConnArgs,
    out: &OutputArgs,
    args: &StatusArgs,
    style: &Style,
) -> Result<ExitCode> {
    let format = status_format(args, out)?;
    let many = fleet::is_many(conn);
    let targets = fleet::targets(conn)?;
    let a = args.clone();
    let outcomes = fleet::run(
        targets,
        RunOptions::from_args(conn, out.show_sql),
        move |db| status::collect(db, &a),
    );
    let style = match &args.output {
        Some(_) => plain(style),
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
                if format == StatusFormat::Prometheus && output.is_none() {
                    render::out_raw(&prometheus::status(&[(&o.target, None)]))?;
                }
                return Err(e);
            }
        };
        let text = match format {
            StatusFormat::Table => render::status::human(&report, &style),
            StatusFormat::Json => pretty_json(&report)?,
            StatusFormat::Prometheus => prometheus::status(&[(&o.target, Some(&report))]),
        };
        emit(&text, output)?;
        return Ok(ExitCode::SUCCESS);
    }

    let outcomes: Vec<TargetResult<_>> = outcomes
        .into_iter()
        .map(TargetOutcome::into_result)
        .collect();
    let text = match format {
        StatusFormat::Table => render::fleet::status(&outcomes, args.top, &style),
        StatusFormat::Json => pretty_json(&outcomes)?,
        StatusFormat::Prometheus => prometheus::status(
            &outcomes
                .iter()
                .map(|o| (o.target.as_str(), o.report.as_ref()))
                .collect::<Vec<_>>(),
        ),
    };
    let code = report_failures(&outcomes);
    if let Some(path) = output {
        if outcomes.iter().all(|o| !o.ok) {
            return Err(anyhow!(
                "no target answered; {} was left as it was",
                path.display()
            ));
        }
    }
    emit(&text, output)?;
    Ok(code)
}

pub fn sessions(
    conn: &ConnArgs,
    out: &OutputArgs,
    args: &SessionsArgs,
    style: &Style,
) -> Result<ExitCode> {
    let targets = fleet::targets(conn)?;
    let a = args.clone();
    let outcomes: Vec<TargetResult<_>> = fleet::run(
        targets,
        RunOptions::from_args(conn, out.show_sql),
        move |db| sessions::collect(db, &a),
    )
    .into_iter()
    .map(TargetOutcome::into_result)
    .collect();
    if out.json {
        render::json(&outcomes)?;
    } else {
        render::out(&render::fleet::sessions(&outcomes, style))?;
        for o in &outcomes {
            if let Some(r) = &o.report {
                for w in &r.warnings {
                    eprintln!(
                        "pgconn: warning: {}",
                        render::clean(&format!("{}: {w}", o.target))
                    );
                }
            }
        }
    }
    Ok(report_failures(&outcomes))
}
