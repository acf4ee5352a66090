//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use std::collections::HashSet;

use anyhow::Result;

use crate::activity::{self, Filter, Listing};
use crate::db::Db;
use crate::report::sessions::{Collected, SessionsHead, SessionsReport, SessionsSink};

/// What `sessions` is asked.
#[derive(Debug, Clone, Default)]
pub struct SessionsRequest {
    pub filter: Filter,
    /// At most this many rows (the longest in their state first); none: all.
    pub limit: Option<usize>,
    /// Mark the server connections of this PgBouncer (its admin console).
    pub pgbouncer: Option<String>,
    /// Only sessions waiting on a lock someone holds, each with the head of its chain.
    pub blocked: bool,
}

/// The whole report, for the layouts that need every session at once.
pub fn collect(db: &mut Db, args: &SessionsRequest) -> Result<SessionsReport> {
    let mut collected = Collected::default();
    stream(db, args, &mut collected)?;
    Ok(collected.into_report())
}

/// The report into `sink` as the server sends it: the head once the first row is in, then each session,
/// then the warnings. Nothing reaches the sink before the statement has succeeded.
pub fn stream(db: &mut Db, args: &SessionsRequest, sink: &mut dyn SessionsSink) -> Result<()> {
    // Only the pooler's server connections are needed (SHOW SERVERS, not the whole console), and before
    // the sessions, so that each is marked as it arrives.
    let pooler: Option<HashSet<i32>> = match &args.pgbouncer {
        Some(ci) => Some(
            crate::pgbouncer::Console::connect(ci, db.show_sql())?
                .server_pids()?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let (target, connection) = (db.target_label(), db.route().clone());
    let mut head = Some(SessionsHead {
        target,
        connection,
        count: 0,
        not_visible: 0,
    });
    let mut not_visible = 0;
    // Sessions waiting for a prepared transaction (pid 0 among their blockers).
    let mut waiting_for_prepared: Vec<i32> = Vec::new();
    // The limit is the statement's own: rows past it are not sent, and the counts still cover them.
    activity::each_session(
        db,
        &args.filter,
        true,
        args.limit,
        args.blocked,
        |listing| {
            match listing {
                Listing::Counts {
                    matched,
                    not_visible: hidden,
                } => {
                    not_visible = hidden;
                    if let Some(mut head) = head.take() {
                        head.count = matched;
                        head.not_visible = hidden;
                        sink.head(&head)?;
                    }
                }
                Listing::Session(s) => {
                    if s.blocked_by.contains(&0) {
                        waiting_for_prepared.push(s.pid);
                    }
                    if let Some(pids) = &pooler {
                        s.via_pgbouncer = pids.contains(&s.pid);
                    }
                    sink.session(s)?;
                }
            }
            Ok(())
        },
    )?;
    let mut warnings = Vec::new();
    if not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            not_visible,
            &db.facts()?.current_user,
            "their state, ages and query are hidden",
        ));
    }
    // Asked only when a session waits for a prepared transaction (pid 0 among its blockers).
    let prepared = if waiting_for_prepared.is_empty() {
        Vec::new()
    } else {
        activity::prepared_transactions(db)?
    };
    if !waiting_for_prepared.is_empty() {
        warnings.push(prepared_warning(&waiting_for_prepared, prepared.len()));
    }
    sink.tail(&prepared, &warnings)?;
    Ok(())
}

/// The warning for sessions blocked by pid 0: a prepared transaction holds the lock, and no session
/// stands behind it (so no kill ends it).
fn prepared_warning(pids: &[i32], prepared: usize) -> String {
    let list: Vec<String> = pids.iter().take(10).map(i32::to_string).collect();
    let more = if pids.len() > 10 { ", …" } else { "" };
    format!(
        "{} session(s) wait for a prepared transaction (pid 0 in blocked_by: {}{more}); no session \
         holds it, so no kill ends it. The candidates are the {prepared} listed in \
         prepared_transactions; end one with COMMIT PREPARED '<gid>' or ROLLBACK PREPARED '<gid>' (in \
         its database)",
        pids.len(),
        list.join(", ")
    )
}
