//! `pgconn kill-idle` and `pgconn kill`: terminate (or cancel) sessions safely, in two phases that
//! `lib::run` sequences: [`plan()`] (then the plan is shown and confirmed) and [`execute`].
//!
//! [`plan()`] asks the server which sessions the selection matches and which of them are left alone
//! (superusers, `--protect-*`, PgBouncer's server connections, LISTEN listeners, advisory lock and
//! temporary table holders, `--keep`): one rule, in SQL, that the signalling statement applies again.
//! [`execute`] then signals in batches, through the batch runner ([`crate::commands::batch`]) with
//! [`signal`] as its medium: each batch's targets are
//! written and synced to the audit log ([`audit`]) before one statement signals them, naming each by pid
//! AND backend_start and re-checking every condition; pg_stat_activity is then polled until they are gone
//! (`--wait`), and the observed outcomes are recorded. A stop signal, a log that cannot be written or a
//! lost connection ends the run after the batch in flight, with everything done so far reported.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::activity::{self, Filter};
use crate::commands::audit::AuditLog;
use crate::commands::batch;
use crate::db::Db;
use crate::interrupt::Interrupt;
use crate::report::kill::{Action, KillReport, KillTarget, SessionOutcome};
use crate::report::State;
use crate::statement::{Params, Statement};

pub mod audit;
pub mod plan;
pub mod signal;

pub use crate::commands::batch::Stop;
pub use signal::{signal_targets, signal_targets_with, BatchObserver, SignalRun, Signalling};

/// What `kill` and `kill-idle` are asked: which sessions, what to do to them, and the guards.
#[derive(Debug, Clone, Default)]
pub struct KillRequest {
    pub filter: Filter,
    pub action: Action,
    pub safety: KillSafety,
    /// `kill --blockers`: only the heads of chains of sessions waiting on a lock (the filter narrows
    /// them), each re-checked when acting to be unchanged since the preview and still a head.
    pub blockers: bool,
}

/// The guards of `kill` and `kill-idle` (their command line's "Safety" options).
#[derive(Debug, Clone)]
pub struct KillSafety {
    /// Show what would be done, change nothing.
    pub dry_run: bool,
    /// Act without asking (needed when there is no terminal).
    pub yes: bool,
    pub include_superusers: bool,
    /// Never touch sessions of these applications / users (`*` wildcards).
    pub protect_app: Vec<String>,
    pub protect_user: Vec<String>,
    pub include_listeners: bool,
    pub include_lock_holders: bool,
    pub include_temp_holders: bool,
    /// PgBouncer's admin console: its server connections are left alone unless `include_pooler`.
    pub pgbouncer: Option<String>,
    pub include_pooler: bool,
    /// Act only when more than N sessions match.
    pub if_more_than: Option<usize>,
    /// Leave the N most recently active matching sessions of each (database, user, application).
    pub keep: Option<usize>,
    /// Act on at most N sessions.
    pub max: Option<usize>,
    /// How long to wait for signalled sessions to end.
    pub wait: std::time::Duration,
    /// The audit log, and whether it records each session's last query (masked).
    pub log: Option<std::path::PathBuf>,
    pub log_queries: bool,
    /// Say nothing unless something was done or went wrong (needs `yes`).
    pub quiet: bool,
    /// Sessions per terminating statement.
    pub batch_size: usize,
    /// `--include-provider`: act on a managed platform's own admin sessions too.
    pub include_provider: bool,
    /// The managed platform's own admin roles, left alone unless `include_provider`: set by [`plan`]
    /// from the platform detected (a caller's value is replaced); [`signal_targets`] adds the detected
    /// platform's to a caller's, so the library path protects them as the command line does.
    pub provider_roles: Vec<String>,
}

impl Default for KillSafety {
    /// The command line's defaults, with `yes` (a caller that builds a request has decided).
    fn default() -> Self {
        KillSafety {
            dry_run: false,
            yes: true,
            include_superusers: false,
            protect_app: Vec::new(),
            protect_user: Vec::new(),
            include_listeners: false,
            include_lock_holders: false,
            include_temp_holders: false,
            pgbouncer: None,
            include_pooler: false,
            if_more_than: None,
            keep: None,
            max: None,
            wait: std::time::Duration::from_secs(5),
            log: None,
            log_queries: false,
            quiet: false,
            batch_size: 1000,
            include_provider: false,
            provider_roles: Vec::new(),
        }
    }
}

static STATE_COUNTS_SQL: std::sync::LazyLock<Statement> =
    std::sync::LazyLock::new(|| activity::assemble(include_str!("../../sql/state_counts.sql")));

/// State counts of all client sessions but pgconn's own, as the server reports them now.
pub fn state_counts(db: &mut Db) -> Result<BTreeMap<String, i64>> {
    let rows = db.query_named(&STATE_COUNTS_SQL, &Params::new())?;
    rows.iter()
        .map(|r| {
            let state: Option<State> = r.try_get(0)?;
            let key = state
                .as_ref()
                .map(State::key)
                .unwrap_or_else(|| "not_visible".into());
            Ok((key, r.try_get::<_, i64>(1)?))
        })
        .collect()
}

/// The audit log as the batches see it: targets before each batch, outcomes after, and the signal check.
struct Recorder<'a> {
    log: Option<&'a mut AuditLog>,
    action: Action,
    interrupt: &'a Interrupt,
}

impl BatchObserver for Recorder<'_> {
    fn before(&mut self, batch: usize, targets: &[&KillTarget]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => audit::targets(log, batch, targets, self.action),
            None => Ok(()),
        }
    }

    fn after(&mut self, outcomes: &[SessionOutcome]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => audit::outcomes(log, outcomes, self.action),
            None => Ok(()),
        }
    }

    fn stop_requested(&self) -> bool {
        self.interrupt.received().is_some()
    }
}

/// A plan of `kill` / `kill-idle`: the report people and JSON see, and what acting on it needs (the
/// selection, the open audit log, PgBouncer's console).
pub struct KillPlan {
    pub report: KillReport,
    filter: Filter,
    safety: KillSafety,
    action: Action,
    log: Option<AuditLog>,
    /// With --pgbouncer: re-read before each batch (the pids the plan saw are in its report).
    console: Option<crate::pgbouncer::Console>,
    blockers: bool,
}

impl super::Plan for KillPlan {
    type Report = KillReport;

    fn report(&self) -> &KillReport {
        &self.report
    }

    /// Not a dry run, the --if-more-than threshold met, and targets.
    fn acts(&self) -> bool {
        self.report.threshold_met && !self.safety.dry_run && !self.report.targets.is_empty()
    }

    fn yes(&self) -> bool {
        self.safety.yes
    }

    fn question(&self) -> String {
        let n = self.report.targets.len();
        format!(
            "{} {n} session{}?",
            self.action.verb(),
            if n == 1 { "" } else { "s" }
        )
    }

    /// A dry run, the threshold not met, nothing matched.
    fn record_without_acting(mut self) -> Result<KillReport> {
        if let Some(log) = self.log.as_mut() {
            audit::plan(log, &self.report, &self.filter)?;
            audit::summary(log, &self.report)?;
            self.report.run.log_complete = true;
        }
        Ok(self.report)
    }

    fn warnings(report: &KillReport) -> &[String] {
        &report.warnings
    }

    fn quiet(&self) -> bool {
        self.safety.quiet
    }

    fn incomplete(report: &KillReport) -> bool {
        report.not_visible > 0
    }
}

/// A managed platform's own admin roles (none without a platform).
fn admin_roles(p: Option<crate::report::platform::Platform>) -> Vec<String> {
    p.map(|p| p.admin_roles().iter().map(|r| r.to_string()).collect())
        .unwrap_or_default()
}

/// Plan: open the audit log (a log that cannot be opened stops the run here, before anything is read),
/// read PgBouncer's server connections when given, and ask the server what the selection matches and
/// what of it is left alone.
pub fn plan(db: &mut Db, req: KillRequest) -> Result<KillPlan> {
    let KillRequest {
        filter,
        action,
        safety,
        blockers,
    } = req;
    let safety = &safety;
    let log = match &safety.log {
        Some(p) => Some(audit::open(
            p,
            db.identity(),
            &db.facts()?.version,
            safety.log_queries,
        )?),
        None => None,
    };
    // PgBouncer's console stays open: its server connections are read for the plan and again before
    // every batch.
    let mut console = match &safety.pgbouncer {
        Some(ci) => Some(crate::pgbouncer::Console::connect(ci, db.show_sql())?),
        None => None,
    };
    let pooler_pids = match console.as_mut() {
        Some(c) => c.server_pids()?,
        None => Vec::new(),
    };
    // The provider's admin roles: from --platform or the host name before the plan's statement, which
    // brings the server's facts; when those name another platform (its settings, reached by address or
    // socket), the plan is read once more with its roles, so that plan and signalling apply one rule.
    let mut safety = safety.clone();
    safety.provider_roles = admin_roles(db.platform_hint());
    let mut report = plan::plan(db, &filter, &safety, action, &pooler_pids, blockers)?;
    let known = admin_roles(db.facts()?.platform.managed());
    if known != safety.provider_roles {
        safety.provider_roles = known;
        report = plan::plan(db, &filter, &safety, action, &pooler_pids, blockers)?;
    }
    if let Some(w) = log.as_ref().and_then(|l| l.warning()) {
        report.warnings.push(w.to_string());
    }
    Ok(KillPlan {
        report,
        filter,
        safety,
        action,
        log,
        console,
        blockers,
    })
}

/// What [`execute`] did: the report with every outcome, the error that ended the run early (the audit
/// log, the server) and the stop signal that did.
pub struct Executed {
    pub report: KillReport,
    pub failure: Option<anyhow::Error>,
    pub signal: Option<crate::interrupt::Signal>,
}

/// Act on the confirmed plan: count the states, record the plan, signal batch by batch (each recorded
/// before and after, re-checked by the server at the moment of action), count again. `progress` hears
/// how many targets have been handled after each batch. An `Err` means nothing was signalled.
pub fn execute(
    db: &mut Db,
    mut plan: KillPlan,
    interrupt: &Interrupt,
    progress: &mut dyn FnMut(usize),
) -> Result<Executed> {
    let report = &mut plan.report;
    let log = &mut plan.log;
    // Read before anything is written: a failure here leaves neither a signal nor a half-written plan.
    report.run.observed.before =
        Some(state_counts(db).map_err(|e| anyhow::anyhow!("{e}; nothing was signalled"))?);
    if let Some(log) = log.as_mut() {
        audit::plan(log, report, &plan.filter)
            .map_err(|e| anyhow::anyhow!("{e:#}; nothing was signalled"))?;
    }
    let run = {
        let mut recorder = Recorder {
            log: log.as_mut(),
            action: plan.action,
            interrupt,
        };
        let mut how = signal::Signalling::new(&plan.filter, &plan.safety, plan.action, Vec::new());
        how.blockers = plan.blockers;
        if let Some(c) = plan.console.as_mut() {
            how.refresh_pooler = Some(Box::new(move || c.server_pids()));
        }
        signal::run(db, &mut how, &report.targets, &mut recorder, progress)
    };
    let signal = interrupt.received();
    let mut failure = run.into_report(&mut report.run, signal);
    // The server's own count after the wait (a lost connection fails at once).
    match state_counts(db) {
        Ok(after) => report.run.observed.after = Some(after),
        Err(e) if failure.is_none() => {
            report.run.error = Some(format!("{e:#}"));
            failure = Some(e);
        }
        Err(_) => {}
    }
    if let Some(log) = log.as_mut() {
        // After a failed write nothing more is appended (a torn line must not be followed by more).
        if !log.failed() {
            if let Err(e) = audit::summary(log, report) {
                report.run.error.get_or_insert_with(|| format!("{e:#}"));
                failure.get_or_insert(e);
            }
        }
        report.run.log_complete = !log.failed();
    }
    report
        .warnings
        .extend(batch::not_seen_to_end(&report.run, "session(s)", "end"));
    Ok(Executed {
        report: plan.report,
        failure,
        signal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_counts_statement_gets_exactly_its_values() {
        crate::statement::assert_fills(&STATE_COUNTS_SQL, &Params::new());
    }
}
