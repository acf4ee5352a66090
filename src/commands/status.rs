//! `pgconn status`: how full the server is, sessions per state, idle ages, who holds the connections, and
//! a verdict with its reasons. One query counts the sessions on the server (per database, user,
//! application, state and, when grouped by it, client), so thousands of sessions cost no more to report
//! than a handful; [`analysis::status`] turns the counts into the report.

use std::time::Duration;

use anyhow::Result;

use crate::activity::{self, Counting, Filter};
use crate::analysis::{self, Grouping, Thresholds};
use crate::db::Db;
use crate::report::status::{DominantStatement, GroupKey, StatusReport};
use crate::report::{ClientProcess, ClientProcessStatus};

/// What `status` is asked (also what `watch` samples and `check` judges). Its Default is `pgconn
/// status`'s; watch, check and the exporter leave `leak_statements` off.
#[derive(Debug, Clone)]
pub struct StatusRequest {
    pub filter: Filter,
    pub grouping: Grouping,
    pub thresholds: Thresholds,
    /// Also read this PgBouncer's admin console (`--pgbouncer`).
    pub pgbouncer: Option<String>,
    /// The format asked for; none: a table, or JSON with `--json`. A format or an output file makes
    /// even one server's status take the path of several targets (a failure is written too).
    pub format: Option<StatusFormat>,
    /// Write to this file (atomically) rather than stdout.
    pub output: Option<std::path::PathBuf>,
    /// Also read pg_stat_database's session counters (watch's and advise's rates; the Prometheus
    /// format reads them anyway), in the same statement.
    pub session_counters: bool,
    /// Name each leak suspect's dominant last statement (`status`, `advise`): the status statement also
    /// groups the idle sessions by their last statement, in the same pass.
    pub leak_statements: bool,
}

impl Default for StatusRequest {
    fn default() -> Self {
        StatusRequest {
            filter: Filter::default(),
            grouping: Grouping::default(),
            thresholds: Thresholds::default(),
            pgbouncer: None,
            format: None,
            output: None,
            session_counters: false,
            leak_statements: true,
        }
    }
}

/// How `status` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    Table,
    Json,
    Prometheus,
}

/// The status of one server; `extra_age` also counts, per bucket, the sessions in their state for
/// longer than it (`check --idle-age`).
pub fn collect(db: &mut Db, req: &StatusRequest) -> Result<StatusReport> {
    Ok(collect_counted(db, req, None)?.0)
}

/// [`collect`], with the counts it was built from.
pub fn collect_counted(
    db: &mut Db,
    req: &StatusRequest,
    extra_age: Option<Duration>,
) -> Result<(StatusReport, analysis::status::Tally)> {
    let bouncer = match &req.pgbouncer {
        Some(ci) => Some(crate::pgbouncer::snapshot(ci, db.show_sql())?),
        None => None,
    };
    let by_process = req.grouping.by.contains(&GroupKey::Process);
    let by_statement = req.grouping.by.contains(&GroupKey::Statement);
    let counting = Counting {
        by_client: req.grouping.by_client() || by_process,
        by_session: by_process,
        by_statement,
        pgbouncer_pids: bouncer
            .as_ref()
            .map(|b| b.server_pids.clone())
            .unwrap_or_default(),
        leak_age: req.thresholds.leak_idle_age,
        idle_in_transaction_age: req.thresholds.idle_in_transaction_age,
        extra_age,
        exporter: req.format == Some(StatusFormat::Prometheus),
        session_counters: req.session_counters || req.format == Some(StatusFormat::Prometheus),
        leak_statements: req.leak_statements,
    };
    let mut tally = activity::count(db, &req.filter, &counting)?;
    if by_process {
        let linked = match &req.pgbouncer {
            Some(ci) => crate::pgbouncer::linked_clients(ci, db.show_sql())?,
            None => Default::default(),
        };
        find_processes(db, &mut tally, &linked)?;
    }
    if by_statement {
        for b in &mut tally.buckets {
            b.statement = Some(super::sessions::statement_fingerprint(
                b.state.is_some(),
                b.query.is_none() && b.query_id.is_none(),
                b.query_id,
                b.query.as_deref(),
                b.query_cut,
            ));
        }
    }
    let report = analysis::status::report(
        &db.target_label(),
        &db.route().clone(),
        db.facts()?,
        &tally,
        &req.grouping,
        &req.thresholds,
        bouncer,
    );
    let mut report = report;
    if req.leak_statements {
        name_leak_statements(&mut report, &tally.leak_statements);
    }
    Ok((report, tally))
}

/// The client process of each session counted one by one (`--by process`), from /proc read once after
/// the count (a session counted was connected before).
/// Behind PgBouncer (`linked`, by backend pid), a session's client is the PgBouncer client linked to it.
fn find_processes(
    db: &mut Db,
    tally: &mut analysis::status::Tally,
    linked: &std::collections::HashMap<i32, crate::report::pgbouncer::LinkedClient>,
) -> Result<()> {
    let mut finder = crate::activity::server_port_and_pid(db)?
        .map(|(port, own)| crate::host::proc::ClientFinder::read(port, own));
    for b in &mut tally.buckets {
        let Some(pid) = b.pid else { continue };
        b.process = Some(match &mut finder {
            Some(f) => match linked.get(&pid) {
                Some(l) => f.find_pooler_client(l),
                None => f.find(pid, b.client.as_deref(), b.client_port),
            },
            None => ClientProcess::unresolved(ClientProcessStatus::OtherNetworkNamespace),
        });
    }
    Ok(())
}

/// Each leak suspect's dominant statement: its idle sessions' last statements (read by the status
/// statement for every group that could be a suspect) fingerprinted, the largest fingerprint named.
fn name_leak_statements(report: &mut StatusReport, rows: &[analysis::status::LeakStatement]) {
    let mut per: Vec<Vec<(crate::report::StatementFingerprint, usize)>> =
        vec![Vec::new(); report.leak_suspects.len()];
    for r in rows {
        let Some(list) = report
            .leak_suspects
            .iter()
            .position(|l| {
                l.database == r.database && l.user == r.user && l.application == r.application
            })
            .and_then(|i| per.get_mut(i))
        else {
            continue;
        };
        let f = super::sessions::statement_fingerprint(
            true,
            r.query.is_none() && r.query_id.is_none(),
            r.query_id,
            r.query.as_deref(),
            r.query_cut,
        );
        match list.iter_mut().find(|(g, _)| g.statement == f.statement) {
            // the first row's text names the statement, and its cut flag is that text's
            Some((_, n)) => *n += r.sessions,
            None => list.push((f, r.sessions)),
        }
    }
    for (l, list) in report.leak_suspects.iter_mut().zip(per) {
        let of_idle: usize = list.iter().map(|(_, n)| n).sum();
        if let Some((f, n)) = list.into_iter().max_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| b.0.statement.cmp(&a.0.statement))
        }) {
            l.statement = Some(DominantStatement {
                fingerprint: f,
                sessions: n,
                of_idle,
            });
        }
    }
}
