//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use anyhow::Result;

use crate::activity::{self, Filter};
use crate::db::Db;
use crate::report::sessions::SessionsReport;

/// What `sessions` is asked.
#[derive(Debug, Clone, Default)]
pub struct SessionsRequest {
    pub filter: Filter,
    /// At most this many rows (the longest in their state first); none: all.
    pub limit: Option<usize>,
    /// Mark the server connections of this PgBouncer (its admin console).
    pub pgbouncer: Option<String>,
}

pub fn collect(db: &mut Db, args: &SessionsRequest) -> Result<SessionsReport> {
    // The limit is the statement's own: rows past it are not sent, and the counts still cover them.
    let listed = activity::sessions(db, &args.filter, true, args.limit)?;
    let mut sessions = listed.sessions;
    if let Some(ci) = &args.pgbouncer {
        // Only its server connections are needed: SHOW SERVERS, not the whole console.
        let pids = crate::pgbouncer::Console::connect(ci, db.show_sql())?.server_pids()?;
        activity::mark_pgbouncer(&mut sessions, &pids);
    }
    let mut warnings = Vec::new();
    if listed.not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            listed.not_visible,
            &db.facts()?.current_user,
            "their state, ages and query are hidden",
        ));
    }
    Ok(SessionsReport {
        target: db.target_label(),
        connection: db.route().clone(),
        count: listed.matched,
        not_visible: listed.not_visible,
        sessions,
        warnings,
    })
}
