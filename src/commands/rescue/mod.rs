//! `pgconn rescue`: on the database host, free slots through the operating system when no connection
//! gets in, in the two phases `lib::run` sequences, as kill's: [`plan()`] (the cluster found, its
//! children read and selected, the plan shown and confirmed) and [`execute`].
//!
//! [`plan()`] finds the postmaster ([`crate::host::cluster`]), reads the settings its titles depend on
//! ([`crate::host::conf`]: refused when update_process_title is off) and every child's title
//! ([`crate::host::title`]): client backends are selected by the usual filters; WAL senders, autovacuum,
//! auxiliary processes, background workers and titles that do not read one way only are never selected.
//! [`execute`] records each batch's targets in the audit log before anything is signalled, then for each
//! target opens a pidfd, reads the process again (same parent, same start time, same session, a state
//! still selected) and sends SIGTERM through the pidfd; it waits for the processes to exit (`--wait`) and
//! records what it saw. [`after`] then tries a normal connection.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::commands::audit::AuditLog;
use crate::db::{ConnOptions, Db};
use crate::host::proc::Clock;
use crate::host::Postmaster;
use crate::report::rescue::{After, Backend, RescueReport, Selection};

mod audit;
mod execute;
mod plan;

use audit::*;
pub use execute::execute;
pub use plan::plan;

/// Processes per audit-log batch: their target lines are written and synced before any is signalled.
pub const BATCH: usize = 1000;

/// What `rescue` is asked.
#[derive(Debug, Clone)]
pub struct RescueRequest {
    pub pgdata: Option<PathBuf>,
    pub postmaster_pid: Option<i32>,
    pub selection: Selection,
    pub dry_run: bool,
    pub yes: bool,
    pub wait: Duration,
    pub log: Option<PathBuf>,
}

/// A plan of `rescue`: the report people and JSON see, and what acting on it needs.
pub struct RescuePlan {
    pub report: RescueReport,
    postmaster: Postmaster,
    /// The postmaster's executable (device, inode): a target must still run it.
    executable: (u64, u64),
    clock: Clock,
    prefix: String,
    /// Matching backends left alone by --keep, per (database, user): re-checked when acting.
    kept: HashMap<(String, String), Vec<Backend>>,
    log: Option<AuditLog>,
    yes: bool,
}

impl RescuePlan {
    /// The cluster acted on.
    pub fn postmaster(&self) -> &Postmaster {
        &self.postmaster
    }
}

impl super::Plan for RescuePlan {
    type Report = RescueReport;

    fn report(&self) -> &RescueReport {
        &self.report
    }

    /// Not a dry run, and targets.
    fn acts(&self) -> bool {
        !self.report.dry_run && !self.report.targets.is_empty()
    }

    fn yes(&self) -> bool {
        self.yes
    }

    fn question(&self) -> String {
        let n = self.report.targets.len();
        format!(
            "Terminate {n} backend{} (SIGTERM)?",
            if n == 1 { "" } else { "s" }
        )
    }

    /// A dry run, nothing matched.
    fn record_without_acting(mut self) -> Result<RescueReport> {
        if let Some(log) = self.log.as_mut() {
            plan_line(log, &self.report)?;
            summary_line(log, &self.report)?;
            self.report.run.log_complete = true;
        }
        Ok(self.report)
    }

    fn warnings(report: &RescueReport) -> &[String] {
        &report.warnings
    }

    /// Matching backends were left alone because their titles may not be current: the run exits 1,
    /// so that one that could not act does not look like one that found nothing.
    fn incomplete(report: &RescueReport) -> bool {
        !report.untrusted.is_empty()
    }
}

/// What [`execute`] did.
pub struct Executed {
    pub report: RescueReport,
    pub failure: Option<anyhow::Error>,
    pub signal: Option<crate::interrupt::Signal>,
}

/// A normal connection after the rescue, to the cluster's own socket and port where the command line,
/// a service, a conninfo and PG* variables give no host or no port (as libpq resolves them); the status
/// of the server when it gets in. Never the emergency route.
pub fn after(conn: &ConnOptions, pm: &Postmaster) -> After {
    let mut conn = conn.clone();
    conn.break_glass = crate::db::BreakGlass::Never;
    conn.connect_timeout.get_or_insert(Duration::from_secs(5));
    let resolve = |conn: &ConnOptions| {
        crate::db::resolve_spec(
            conn,
            conn.dbname.first().map(String::as_str),
            conn.service.first().map(String::as_str),
        )
    };
    if let Ok(spec) = resolve(&conn) {
        if let [h] = spec.targets().as_slice() {
            if h.is_default() {
                conn.host = Some(
                    pm.socket_dir
                        .as_ref()
                        .map(|d| d.display().to_string())
                        .unwrap_or_else(|| "localhost".into()),
                );
            }
            if h.port_is_default() {
                conn.port = pm.port.map(|p| p.to_string());
            }
        }
    }
    let spec = resolve(&conn);
    let target = spec.as_ref().map(|s| s.target_label()).unwrap_or_default();
    let warnings = spec
        .as_ref()
        .map(|s| s.warnings().to_vec())
        .unwrap_or_default();
    let status = Db::connect_one(&conn).and_then(|mut db| {
        crate::commands::status::collect(
            &mut db,
            &crate::commands::status::StatusRequest::default(),
        )
    });
    match status {
        Ok(s) => After {
            target,
            connected: true,
            error: None,
            // The status's connection carries them, with the route's.
            warnings: Vec::new(),
            status: Some(s),
        },
        Err(e) => {
            let mut error = format!("{e:#}");
            let as_root = spec.as_ref().is_ok_and(|s| s.user() == "root");
            if nix::unistd::geteuid().is_root() && as_root {
                error.push_str(
                    " (pgconn runs as root and connected as role \"root\": give -U, or run rescue as \
                     the cluster's OS user, e.g. `sudo -u postgres pgconn rescue`)",
                );
            }
            After {
                target,
                connected: false,
                error: Some(error),
                warnings,
                status: None,
            }
        }
    }
}
