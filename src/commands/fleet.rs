//! `status` and `sessions` over several targets (and `status --format` / `--output`, which take this
//! path for one target too). Every target ends with its own result; one failing never hides the others.

use anyhow::Result;

use crate::cli::{OutputArgs, SessionsArgs, StatusArgs, StatusFormat};
use crate::commands::sessions;
use crate::commands::status::{self, StatusRequest};
use crate::db::ConnOptions;
use crate::fleet::{self, RunOptions, TargetOutcome};
use crate::report::fleet::TargetResult;
use crate::report::sessions::SessionsReport;
use crate::report::status::StatusReport;

/// Whether `status` takes this path rather than the plain one-server one.
pub fn wants_status(conn: &ConnOptions, args: &StatusArgs) -> bool {
    fleet::is_many(conn) || args.format.is_some() || args.output.is_some()
}

/// The format asked for: `--format`, or `--json`, or a table.
pub fn status_format(args: &StatusArgs, out: &OutputArgs) -> Result<StatusFormat> {
    match (args.format, out.json) {
        (Some(StatusFormat::Json) | None, true) => Ok(StatusFormat::Json),
        (Some(f), false) => Ok(f),
        (None, false) => Ok(StatusFormat::Table),
        (Some(_), true) => Err(crate::exit::refuse(
            "--json is short for --format json; give one or the other",
        )),
    }
}

/// `status` on every target, concurrently (one connection each).
pub fn status(conn: &ConnOptions, req: &StatusRequest) -> Result<Vec<TargetOutcome<StatusReport>>> {
    let targets = fleet::targets(conn)?;
    let a = req.clone();
    Ok(fleet::run(
        targets,
        RunOptions::from_conn(conn),
        move |db| status::collect(db, &a),
    ))
}

/// `sessions` on every target, concurrently (one connection each).
pub fn sessions(
    conn: &ConnOptions,
    args: &SessionsArgs,
) -> Result<Vec<TargetResult<SessionsReport>>> {
    let targets = fleet::targets(conn)?;
    let a = args.clone();
    Ok(fleet::run(targets, RunOptions::from_conn(conn), move |db| {
        sessions::collect(db, &a)
    })
    .into_iter()
    .map(TargetOutcome::into_result)
    .collect())
}
