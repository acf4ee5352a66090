//! `pgconn kill-idle` and `pgconn kill`: terminate (or cancel) sessions safely.
//!
//! [`plan`] asks the server which sessions the selection matches and which of them are left alone
//! (superusers, `--protect-*`, PgBouncer's server connections, LISTEN listeners, advisory lock and
//! temporary table holders, `--keep`): one rule, in SQL, that the signalling statement applies again. The
//! plan is shown and confirmed (or `--yes`); then [`signal`] works in batches: each batch's targets are
//! written and synced to the audit log ([`audit`]) before one statement signals them, naming each by pid
//! AND backend_start and re-checking every condition; pg_stat_activity is then polled until they are gone
//! (`--wait`), and the observed outcomes are recorded. A stop signal, a log that cannot be written or a
//! lost connection ends the run after the batch in flight, with everything done so far reported.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use postgres::types::Type;
use serde::Serialize;

use crate::activity::{self, Filter, Session};
use crate::cli::{KillArgs, KillIdleArgs, KillSafety, StateArg};
use crate::db::Db;
use crate::interrupt::Interrupt;
use crate::render::{self, Style};
use crate::ui;

pub mod audit;
pub mod plan;
pub mod signal;

pub use signal::{signal_targets, signal_targets_with, BatchObserver, SignalRun, Signalling, Stop};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Terminate,
    Cancel,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Terminate => "Terminate",
            Action::Cancel => "Cancel the queries of",
        }
    }
}

/// Why a session that matches is left alone. Decided by the server (`protection.sql`) and parsed here,
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// `--cancel` of a session that is not running a query: there is nothing to cancel.
    NotRunning,
    Superuser,
    ProtectApp,
    ProtectUser,
    /// A server connection of the PgBouncer given with `--pgbouncer`.
    Pooler,
    /// Its last statement was LISTEN.
    Listener,
    /// It holds advisory locks.
    AdvisoryLock,
    /// It has temporary tables.
    TempTables,
}

impl Protection {
    pub fn parse(s: &str) -> Option<Protection> {
        Some(match s {
            "not_running" => Protection::NotRunning,
            "superuser" => Protection::Superuser,
            "protect_app" => Protection::ProtectApp,
            "protect_user" => Protection::ProtectUser,
            "pooler" => Protection::Pooler,
            "listener" => Protection::Listener,
            "advisory_lock" => Protection::AdvisoryLock,
            "temp_tables" => Protection::TempTables,
            _ => return None,
        })
    }

    /// What it is, for "left alone: 3 ..." and skip reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Protection::NotRunning => "not running a query",
            Protection::Superuser => "of superusers",
            Protection::ProtectApp => "protected by --protect-app",
            Protection::ProtectUser => "protected by --protect-user",
            Protection::Pooler => "PgBouncer server connections",
            Protection::Listener => "LISTEN listeners",
            Protection::AdvisoryLock => "holding advisory locks",
            Protection::TempTables => "with temporary tables",
        }
    }

    /// The option that includes them, if any.
    pub fn include_flag(self) -> Option<&'static str> {
        match self {
            Protection::NotRunning | Protection::ProtectApp | Protection::ProtectUser => None,
            Protection::Superuser => Some("--include-superusers"),
            Protection::Pooler => Some("--include-pooler"),
            Protection::Listener => Some("--include-listeners"),
            Protection::AdvisoryLock => Some("--include-lock-holders"),
            Protection::TempTables => Some("--include-temp-holders"),
        }
    }

    /// Why it matters, for the preview.
    pub fn why(self) -> Option<&'static str> {
        match self {
            Protection::Pooler => {
                Some("in session pooling each one carries a live client of the pooler")
            }
            Protection::Listener => Some(
                "a terminated listener silently misses NOTIFYs (recognised by its last statement being \
                 LISTEN: PostgreSQL shows no other session's channels)",
            ),
            Protection::AdvisoryLock => {
                Some("job queues, migration runners and leader elections lose their lock")
            }
            Protection::TempTables => Some("their data goes with the session"),
            _ => None,
        }
    }
}

/// A session the plan will act on.
#[derive(Debug, Clone, Serialize)]
pub struct KillTarget {
    #[serde(flatten)]
    pub session: Session,
    /// Whether pgconn's role may signal it, as far as the catalogs tell (the server has the last word).
    pub allowed: bool,
}

/// A matching session the plan leaves alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftAlone {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    #[serde(serialize_with = "activity::serialize_state")]
    pub state: Option<String>,
    pub protection: Protection,
}

/// Matching sessions left alone, per reason (`--keep`, `--max` and hidden sessions are counted apart).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Protected {
    pub superuser: usize,
    pub protect_app: usize,
    pub protect_user: usize,
    pub pooler: usize,
    pub listener: usize,
    pub advisory_lock: usize,
    pub temp_tables: usize,
    pub not_running: usize,
}

impl Protected {
    pub fn add(&mut self, p: Protection) {
        *self.slot(p) += 1;
    }

    fn slot(&mut self, p: Protection) -> &mut usize {
        match p {
            Protection::NotRunning => &mut self.not_running,
            Protection::Superuser => &mut self.superuser,
            Protection::ProtectApp => &mut self.protect_app,
            Protection::ProtectUser => &mut self.protect_user,
            Protection::Pooler => &mut self.pooler,
            Protection::Listener => &mut self.listener,
            Protection::AdvisoryLock => &mut self.advisory_lock,
            Protection::TempTables => &mut self.temp_tables,
        }
    }

    pub fn get(&self, p: Protection) -> usize {
        match p {
            Protection::NotRunning => self.not_running,
            Protection::Superuser => self.superuser,
            Protection::ProtectApp => self.protect_app,
            Protection::ProtectUser => self.protect_user,
            Protection::Pooler => self.pooler,
            Protection::Listener => self.listener,
            Protection::AdvisoryLock => self.advisory_lock,
            Protection::TempTables => self.temp_tables,
        }
    }
}

/// What happened to one target, observed on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Signalled, and gone from pg_stat_activity within `--wait`.
    Terminated,
    /// Signalled, and no longer running the query it ran.
    Cancelled,
    /// Signalled, but still there (still running its query, for a cancel) after `--wait`.
    Signalled,
    /// Not signalled: it no longer qualified at the moment of action (see `skip`).
    Skipped,
    /// The server refused: this role may not signal it.
    Denied,
    Failed,
    /// The connection was lost or the statement failed while it was being signalled: it may or may not
    /// have been signalled.
    Unknown,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Terminated => "terminated",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::Signalled => "signalled",
            OutcomeKind::Skipped => "skipped",
            OutcomeKind::Denied => "denied",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Unknown => "unknown",
        }
    }
}

/// Why a target was skipped at the moment of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The session ended after the preview.
    Gone,
    /// The pid belongs to another session now (backend_start differs).
    Replaced,
    /// It no longer matches the selection (became active, changed state, too young).
    Changed,
    /// It now matches a protection rule (see `protection`).
    Protected,
    /// `--keep`: sessions kept in its group ended since the preview; this one stays instead.
    Kept,
    /// Not a backend any more when the signal was to be sent.
    NotSignalled,
}

/// The outcome of one target.
#[derive(Debug, Clone, Serialize)]
pub struct SessionOutcome {
    pub pid: i32,
    pub backend_start: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// State and age when previewed.
    #[serde(serialize_with = "activity::serialize_state")]
    pub state: Option<String>,
    pub state_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub outcome: OutcomeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
    pub reason: Option<String>,
    /// State at the moment of action, or after the wait when still present.
    #[serde(serialize_with = "activity::serialize_state")]
    pub state_now: Option<String>,
    /// When the signalling statement handled it (server clock).
    pub at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub sessions: usize,
    pub oldest_state_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub targeted: usize,
    pub terminated: usize,
    pub cancelled: usize,
    /// Signalled but not seen to end within --wait (still there, or the server could no longer be asked).
    pub signalled: usize,
    pub skipped: usize,
    pub denied: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Targets not reached because the run stopped (signal, log failure, lost connection).
    pub not_attempted: usize,
}

impl Summary {
    fn count(&mut self, outcomes: &[SessionOutcome]) {
        for o in outcomes {
            match o.outcome {
                OutcomeKind::Terminated => self.terminated += 1,
                OutcomeKind::Cancelled => self.cancelled += 1,
                OutcomeKind::Signalled => self.signalled += 1,
                OutcomeKind::Skipped => self.skipped += 1,
                OutcomeKind::Denied => self.denied += 1,
                OutcomeKind::Failed => self.failed += 1,
                OutcomeKind::Unknown => self.unknown += 1,
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct KillReport {
    pub target: String,
    pub action: Action,
    pub dry_run: bool,
    /// Visible sessions that matched the selection (before protection, --keep and --max).
    pub matched: usize,
    /// Sessions of other roles this role cannot see (no pg_read_all_stats) that may match: never acted on.
    pub not_visible: usize,
    pub protected: Protected,
    pub left_alone: Vec<LeftAlone>,
    pub kept: usize,
    pub capped: usize,
    pub if_more_than: Option<usize>,
    /// False when --if-more-than was not exceeded (nothing is done).
    pub threshold_met: bool,
    pub targets: Vec<KillTarget>,
    pub groups: Vec<GroupSummary>,
    /// True once sessions were signalled (not a dry run, confirmed, threshold met).
    pub acted: bool,
    pub wait_seconds: f64,
    pub results: Vec<SessionOutcome>,
    pub summary: Summary,
    pub before: Option<BTreeMap<String, i64>>,
    pub after: Option<BTreeMap<String, i64>>,
    pub log: Option<PathBuf>,
    /// Every line meant for the log was written and synced.
    pub log_complete: bool,
    /// The stop signal that ended the run early (`SIGTERM`, ...).
    pub interrupted: Option<String>,
    /// What ended the run early otherwise (the audit log, the server).
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

pub fn run_kill_idle(db: &mut Db, args: &KillIdleArgs, style: &Style) -> Result<ExitCode> {
    let states: Vec<StateArg> = if args.state.is_empty() {
        vec![StateArg::Idle]
    } else {
        args.state.iter().map(|s| StateArg::from(*s)).collect()
    };
    let mut filter = Filter::from_args(&args.filters).with_states(&states);
    filter.state_older_than = Some(args.older_than);
    execute(db, filter, &args.safety, Action::Terminate, style)
}

pub fn run_kill(db: &mut Db, args: &KillArgs, style: &Style) -> Result<ExitCode> {
    let f = &args.filters;
    let selects = !args.pid.is_empty()
        || !args.state.is_empty()
        || args.running_longer_than.is_some()
        || args.idle_longer_than.is_some()
        || !f.db.is_empty()
        || !f.user.is_empty()
        || !f.app.is_empty()
        || !f.client.is_empty();
    if !selects && !args.all {
        return Err(crate::refuse(
            "say which sessions: --pid, --state, --running-longer-than, --idle-longer-than, a filter \
             (--db, --user, --app, --client), or --all for every client session but pgconn's own",
        ));
    }
    let mut filter = Filter::from_args(f)
        .with_states(&args.state)
        .idle_longer_than(args.idle_longer_than);
    filter.pids = args.pid.clone();
    filter.running_longer_than = args.running_longer_than;
    let action = if args.cancel {
        Action::Cancel
    } else {
        Action::Terminate
    };
    execute(db, filter, &args.safety, action, style)
}

static STATE_COUNTS_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| activity::assemble(include_str!("../../sql/state_counts.sql")));

/// State counts of all client sessions but pgconn's own, as the server reports them now.
pub fn state_counts(db: &mut Db) -> Result<BTreeMap<String, i64>> {
    let none: Vec<i32> = Vec::new();
    let rows = db.query(&STATE_COUNTS_SQL, &[(&none, Type::INT4_ARRAY)])?;
    Ok(rows
        .iter()
        .map(|r| {
            let state: Option<String> = r.get(0);
            let key = state
                .as_deref()
                .map(activity::state_key)
                .unwrap_or_else(|| "not_visible".into());
            (key, r.get::<_, i64>(1))
        })
        .collect())
}

/// `Ok(true)` when written, `Ok(false)` when stdout is closed (a reader like `head` went away): what was
/// done does not depend on whether it could be shown. Other write errors stay errors.
fn tolerate_closed_stdout(written: Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(true),
        Err(e) if render::is_closed_stdout(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The audit log as the batches see it: targets before each batch, outcomes after, and the signal check.
struct Recorder<'a> {
    log: Option<&'a mut audit::AuditLog>,
    action: Action,
    interrupt: &'a Interrupt,
}

impl BatchObserver for Recorder<'_> {
    fn before(&mut self, batch: usize, targets: &[&KillTarget]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => log.targets(batch, targets, self.action),
            None => Ok(()),
        }
    }

    fn after(&mut self, outcomes: &[SessionOutcome]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => log.outcomes(outcomes, self.action),
            None => Ok(()),
        }
    }

    fn stop_requested(&self) -> bool {
        self.interrupt.received().is_some()
    }
}

fn execute(
    db: &mut Db,
    filter: Filter,
    safety: &KillSafety,
    action: Action,
    style: &Style,
) -> Result<ExitCode> {
    // Opened before anything is read or done: a log that cannot be opened stops the run here.
    let mut log = match &safety.log {
        Some(p) => Some(audit::AuditLog::open(
            p,
            db.identity(),
            &db.facts.version,
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
    let mut report = plan::plan(db, &filter, safety, action, &pooler_pids)?;
    if let Some(w) = log.as_ref().and_then(|l| l.warning()) {
        report.warnings.push(w.to_string());
    }

    let stop_early = !report.threshold_met || safety.dry_run || report.targets.is_empty();
    // A closed stdout (`| head`) does not stop the run, nor change its exit code; but a person is never
    // asked without seeing the plan: when it could not go to stdout (or stdout carries JSON), it goes
    // to stderr, with the prompt.
    let preview = render::kill::preview(&report, style);
    let mut shown = false;
    if !style.json {
        shown = tolerate_closed_stdout(render::out(&preview))?;
    }
    if !shown && !stop_early && !safety.yes && ui::interactive() {
        eprint!("{}", render::terminal_safe(&preview));
    }
    if stop_early {
        if let Some(log) = log.as_mut() {
            log.plan(&report, &filter)?;
            log.summary(&report)?;
            report.log_complete = true;
        }
        if style.json {
            render::json(&report)?;
        }
        render::warnings(&report.warnings);
        return Ok(ExitCode::SUCCESS);
    }

    let n = report.targets.len();
    let question = format!(
        "{} {n} session{}?",
        action.verb(),
        if n == 1 { "" } else { "s" }
    );
    if !ui::confirm(&question, safety.yes)? {
        eprintln!("pgconn: cancelled; nothing was done");
        if style.json {
            render::json(&report)?;
        }
        return Ok(ExitCode::from(crate::EXIT_USAGE));
    }

    // From here on a stop signal ends the run after the batch in flight, recorded.
    let interrupt = Interrupt::install()?;
    // Read before anything is written: a failure here leaves neither a signal nor a half-written plan.
    report.before =
        Some(state_counts(db).map_err(|e| anyhow::anyhow!("{e}; nothing was signalled"))?);
    if let Some(log) = log.as_mut() {
        log.plan(&report, &filter)
            .map_err(|e| anyhow::anyhow!("{e:#}; nothing was signalled"))?;
    }
    let run = {
        let mut recorder = Recorder {
            log: log.as_mut(),
            action,
            interrupt: &interrupt,
        };
        let mut how = signal::Signalling::new(&filter, safety, action, pooler_pids);
        if let Some(c) = console.as_mut() {
            how.refresh_pooler = Some(Box::new(move || c.server_pids()));
        }
        signal::run(db, &mut how, &report.targets, &mut recorder)
    };
    report.acted = true;
    report.summary.count(&run.outcomes);
    report.summary.not_attempted = report.targets.len() - run.outcomes.len();
    report.results = run.outcomes;
    let mut failure = None;
    match run.stopped {
        None => {}
        Some(Stop::Interrupted) => {}
        Some(Stop::Log(e)) => {
            report.error = Some(format!("{e:#}"));
            failure = Some(e);
        }
        Some(Stop::Server(e)) => {
            report.error = Some(format!("{e:#}"));
            failure = Some(e);
        }
    }
    let signal = interrupt.received();
    report.interrupted = signal.map(|s| s.name().to_string());
    // The server's own count after the wait (a lost connection fails at once).
    match state_counts(db) {
        Ok(after) => report.after = Some(after),
        Err(e) if failure.is_none() => {
            report.error = Some(format!("{e:#}"));
            failure = Some(e);
        }
        Err(_) => {}
    }
    if let Some(log) = log.as_mut() {
        // After a failed write nothing more is appended (a torn line must not be followed by more).
        if !log.failed() {
            if let Err(e) = log.summary(&report) {
                report.error.get_or_insert_with(|| format!("{e:#}"));
                failure.get_or_insert(e);
            }
        }
        report.log_complete = !log.failed();
    }
    if report.summary.signalled > 0 {
        report.warnings.push(format!(
            "{} session(s) were signalled but not seen to end within --wait {}",
            report.summary.signalled,
            render::age(report.wait_seconds)
        ));
    }

    let printed = if style.json {
        render::json(&report)
    } else {
        render::out(&render::kill::results(&report, style))
    };
    let output_error = tolerate_closed_stdout(printed).err();
    render::warnings(&report.warnings);
    if let Some(sig) = signal {
        eprintln!(
            "pgconn: {} received: stopped after {} of {} sessions; nothing further was signalled",
            sig.name(),
            report.results.len(),
            report.targets.len()
        );
        if failure.is_none() {
            return Ok(ExitCode::from(sig.exit_code()));
        }
    }
    if let Some(e) = failure {
        let (done, all) = (report.results.len(), report.targets.len());
        let what = if done < all {
            format!(
                "stopped after {done} of {all} sessions ({} terminated, {} cancelled); the rest were not \
                 signalled",
                report.summary.terminated, report.summary.cancelled,
            )
        } else {
            format!(
                "all {all} sessions were handled ({} terminated, {} cancelled), but",
                report.summary.terminated, report.summary.cancelled,
            )
        };
        return Err(e.context(what));
    }
    if let Some(e) = output_error {
        return Err(e.context(
            "the sessions were handled as reported in the log, but the results could not be written",
        ));
    }
    let s = &report.summary;
    if s.denied + s.failed + s.unknown > 0 {
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
