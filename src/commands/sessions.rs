//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use std::collections::HashSet;

use anyhow::Result;

use crate::activity::{self, Filter, Listing};
use crate::db::Db;
use crate::host::proc::ClientFinder;
use crate::report::sessions::{Collected, SessionsHead, SessionsReport, SessionsSink};
use crate::report::{ClientProcess, ClientProcessStatus};

/// What `sessions` is asked.
#[derive(Debug, Clone, Default)]
pub struct SessionsRequest {
    pub filter: Filter,
    /// At most this many rows (the longest in their state first); none: all.
    pub limit: Option<usize>,
    /// Mark the server connections of this PgBouncer (its admin console).
    pub pgbouncer: Option<String>,
    /// Find the client process behind each session on this host (`--processes`).
    pub processes: bool,
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
    // The server's port: in its unix socket's name and the far end of its TCP connections.
    let server_port = if args.processes {
        let row = db.query_one("SELECT current_setting('port')::int AS port", &[])?;
        u16::try_from(row.try_get::<_, i32>("port")?).ok()
    } else {
        None
    };
    // Read once, when the first session arrives (after the statement ran: a session it lists was
    // connected before /proc is read).
    let mut finder: Option<ClientFinder> = None;
    // The limit is the statement's own: rows past it are not sent, and the counts still cover them.
    activity::each_session(db, &args.filter, true, args.limit, |listing| {
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
                if let Some(pids) = &pooler {
                    s.via_pgbouncer = pids.contains(&s.pid);
                }
                if args.processes {
                    s.process =
                        Some(match server_port {
                            Some(port) => finder
                                .get_or_insert_with(|| ClientFinder::read(port))
                                .find(s.pid, s.client.as_deref(), s.client_port),
                            None => ClientProcess::unresolved(
                                ClientProcessStatus::OtherNetworkNamespace,
                            ),
                        });
                }
                sink.session(s)?;
            }
        }
        Ok(())
    })?;
    let mut warnings = Vec::new();
    if not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            not_visible,
            &db.facts()?.current_user,
            "their state, ages and query are hidden",
        ));
    }
    sink.warnings(&warnings)?;
    Ok(())
}
