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
use std::process::ExitCode;

use anyhow::Result;
use postgres::types::Type;

use crate::activity::{self, Filter};
use crate::cli::{KillArgs, KillIdleArgs, KillSafety, StateArg};
use crate::db::Db;
use crate::interrupt::Interrupt;
use crate::render::{self, Style};
use crate::report::kill::{Action, KillTarget, SessionOutcome};
use crate::ui;

pub mod audit;
pub mod plan;
pub mod signal;

pub use signal::{signal_targets, signal_targets_with, BatchObserver, SignalRun, Signalling, Stop};

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
                .map(crate::report::state_key)
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
            crate::report::age(report.wait_seconds)
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
