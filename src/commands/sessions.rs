//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use anyhow::Result;

use crate::activity::{self, Filter};
use crate::cli::SessionsArgs;
use crate::db::Db;
use crate::report::sessions::SessionsReport;

/// The filter of `sessions`: `--idle-longer-than` alone means the idle states.
pub fn filter(args: &SessionsArgs) -> Filter {
    Filter::from(&args.filters)
        .with_states(args.state.iter().map(|&s| crate::report::State::from(s)))
        .idle_longer_than(args.idle_longer_than)
}

pub fn collect(db: &mut Db, args: &SessionsArgs) -> Result<SessionsReport> {
    // The limit is the statement's own: rows past it are not sent, and the counts still cover them.
    let limit = (args.limit > 0).then_some(args.limit);
    let listed = activity::sessions(db, &filter(args), true, limit)?;
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
