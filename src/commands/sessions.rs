//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use anyhow::Result;

use crate::activity::{self, Filter};
use crate::cli::SessionsArgs;
use crate::db::Db;
use crate::report::sessions::SessionsReport;

/// The filter of `sessions`: `--idle-longer-than` alone means the idle states.
pub fn filter(args: &SessionsArgs) -> Filter {
    Filter::from(&args.filters)
        .with_states(args.state.iter().map(|s| s.pg_state()))
        .idle_longer_than(args.idle_longer_than)
}

pub fn collect(db: &mut Db, args: &SessionsArgs) -> Result<SessionsReport> {
    let mut sessions = activity::sessions(db, &filter(args), true)?;
    if let Some(ci) = &args.pgbouncer {
        // Only its server connections are needed: SHOW SERVERS, not the whole console.
        let pids = crate::pgbouncer::Console::connect(ci, db.show_sql())?.server_pids()?;
        activity::mark_pgbouncer(&mut sessions, &pids);
    }
    let count = sessions.len();
    if args.limit > 0 {
        sessions.truncate(args.limit);
    }
    let hidden = sessions.iter().filter(|s| !s.visible).count();
    let mut warnings = Vec::new();
    if hidden > 0 {
        warnings.push(crate::report::not_visible_warning(
            hidden,
            &db.facts()?.current_user,
            "their state, ages and query are hidden",
        ));
    }
    Ok(SessionsReport {
        target: db.target_label(),
        connection: db.route().clone(),
        count,
        sessions,
        warnings,
    })
}
