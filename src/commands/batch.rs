//! The loop kill and rescue share: targets signalled batch by batch through a [`Medium`] (kill's: one
//! SQL statement per batch; rescue's: a pidfd per process). The order is the safety: each batch's
//! targets are recorded (the audit log syncs them) before anything of it is signalled; the medium
//! re-checks every target at the moment of action, signals, and observes what came of it; the outcomes
//! are recorded. A stop request is looked at before each batch only, so the batch in flight is always
//! finished, observed and recorded; a record that cannot be written, or a medium that cannot go on,
//! ends the run after that batch. The counts come from the outcomes alone.

use anyhow::Result;

use crate::interrupt::Signal;
use crate::report::batch::{BatchRun, Summary};
use crate::report::kill::OutcomeKind;

/// How a command reaches its targets, one batch at a time.
pub trait Medium {
    type Target;
    type Outcome;
    /// What [`Medium::prepare`] read again for the re-checks of one batch.
    type Fresh;
    /// What [`Medium::signal`] leaves for [`Medium::observe`]: the targets signalled, and the outcomes
    /// already known (skipped, denied, failed).
    type Sent;

    /// Whether a stop was asked for (a stop signal); looked at before each batch.
    fn stop_requested(&self) -> bool;
    /// Before batch `batch` (1-based) is recorded: read again what its re-check depends on (kill:
    /// PgBouncer's server connections; rescue: the configuration and the sockets). An error ends the
    /// run; nothing of this batch is recorded or signalled.
    fn prepare(&mut self, batch: usize) -> Result<Self::Fresh>;
    /// Record the batch's targets before anything of it is signalled; an error means none of it is.
    fn record_targets(&mut self, batch: usize, targets: &[Self::Target]) -> Result<()>;
    /// Re-check each target at the moment of action and signal those that still qualify.
    fn signal(&mut self, batch: &[Self::Target], fresh: Self::Fresh) -> Self::Sent;
    /// Wait (within `--wait`) for the signalled targets and return every target's outcome, in the
    /// batch's order, with the error that ends the run after this batch (the server went away).
    fn observe(
        &mut self,
        batch: &[Self::Target],
        sent: Self::Sent,
    ) -> (Vec<Self::Outcome>, Option<anyhow::Error>);
    /// Record the batch's outcomes; an error ends the run after this batch.
    fn record_outcomes(&mut self, outcomes: &[Self::Outcome]) -> Result<()>;
    /// What happened to one target, for the counts.
    fn kind(outcome: &Self::Outcome) -> OutcomeKind;
}

/// Why a run ended before every target was handled.
#[derive(Debug)]
pub enum Stop {
    /// A stop signal (SIGINT, SIGTERM, SIGHUP) arrived.
    Interrupted,
    /// A batch could not be recorded (the audit log).
    Log(anyhow::Error),
    /// The medium could not go on: the server went away or a statement failed (kill), what the
    /// re-check reads could no longer be read (rescue).
    Medium(anyhow::Error),
}

/// What a run did: the outcomes of every target it handled, in order, their counts (targets not
/// reached are `not_attempted`), and why it stopped early, if it did.
#[derive(Debug)]
pub struct Ran<O> {
    pub outcomes: Vec<O>,
    pub summary: Summary,
    pub stopped: Option<Stop>,
}

/// Signal `targets` through `medium` in batches of `batch_size`; `progress` hears how many targets have
/// been handled after each batch.
pub fn run<M: Medium>(
    medium: &mut M,
    targets: &[M::Target],
    batch_size: usize,
    progress: &mut dyn FnMut(usize),
) -> Ran<M::Outcome> {
    let mut outcomes = Vec::with_capacity(targets.len());
    let mut stopped = None;
    for (i, chunk) in targets.chunks(batch_size.max(1)).enumerate() {
        let n = i + 1;
        if medium.stop_requested() {
            stopped = Some(Stop::Interrupted);
            break;
        }
        let fresh = match medium.prepare(n) {
            Ok(fresh) => fresh,
            Err(e) => {
                stopped = Some(Stop::Medium(e));
                break;
            }
        };
        if let Err(e) = medium.record_targets(n, chunk) {
            stopped = Some(Stop::Log(e));
            break;
        }
        let sent = medium.signal(chunk, fresh);
        let (batch, error) = medium.observe(chunk, sent);
        // Recorded even when the medium failed: what is known of the batch goes to the log.
        let recorded = medium.record_outcomes(&batch);
        outcomes.extend(batch);
        progress(outcomes.len());
        if let Some(e) = error {
            stopped = Some(Stop::Medium(e));
            break;
        }
        if let Err(e) = recorded {
            stopped = Some(Stop::Log(e));
            break;
        }
    }
    let mut summary = Summary {
        targeted: targets.len(),
        ..Summary::default()
    };
    for o in &outcomes {
        summary.add(M::kind(o));
    }
    summary.not_attempted = targets.len() - outcomes.len();
    Ran {
        outcomes,
        summary,
        stopped,
    }
}

impl<O> Ran<O> {
    /// Into the report: acted, the outcomes and their counts, the error that ended the run early and
    /// the stop signal received. Returns that error.
    pub fn into_report<E>(
        self,
        run: &mut BatchRun<O, E>,
        signal: Option<Signal>,
    ) -> Option<anyhow::Error> {
        run.acted = true;
        run.summary = self.summary;
        run.results = self.outcomes;
        let failure = match self.stopped {
            None | Some(Stop::Interrupted) => None,
            Some(Stop::Log(e)) | Some(Stop::Medium(e)) => Some(e),
        };
        if let Some(e) = &failure {
            run.error = Some(format!("{e:#}"));
        }
        run.interrupted = signal.map(|s| s.name().to_string());
        failure
    }
}

/// The warning for targets signalled but not seen to end within `--wait` (`noun`: "session(s)",
/// `end`: "end"), if there are any.
pub fn not_seen_to_end<O, E>(run: &BatchRun<O, E>, noun: &str, end: &str) -> Option<String> {
    (run.summary.signalled > 0).then(|| {
        format!(
            "{} {noun} were signalled but not seen to {end} within --wait {}",
            run.summary.signalled,
            crate::report::age(run.wait_seconds)
        )
    })
}
