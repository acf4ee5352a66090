//! `status` (one target or many) and `sessions` over several targets. Every target ends with its own
//! result; one failing never hides the others.

use anyhow::Result;

use crate::commands::sessions::{self, SessionsRequest};
use crate::commands::status::{self, StatusRequest};
use crate::db::ConnOptions;
use crate::fleet::{self, RunOptions, TargetOutcome};
use crate::report::fleet::TargetResult;
use crate::report::sessions::SessionsReport;
use crate::report::status::StatusReport;

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
    args: &SessionsRequest,
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
