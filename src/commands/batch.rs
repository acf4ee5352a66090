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

#[cfg(test)]
mod tests {
    use super::*;

    /// A medium that writes down what the runner asks of it, and fails or stops where it is told.
    #[derive(Default)]
    struct Journal {
        calls: Vec<String>,
        stop_before: Option<usize>,
        fail_prepare: Option<usize>,
        fail_targets: Option<usize>,
        fail_observe: Option<usize>,
        fail_outcomes: Option<usize>,
        batch: usize,
    }

    impl Medium for Journal {
        type Target = i32;
        type Outcome = (i32, OutcomeKind);
        type Fresh = usize;
        type Sent = Vec<i32>;

        fn stop_requested(&self) -> bool {
            self.stop_before == Some(self.batch + 1)
        }
        fn prepare(&mut self, batch: usize) -> Result<usize> {
            self.batch = batch;
            self.calls.push(format!("prepare {batch}"));
            match self.fail_prepare == Some(batch) {
                true => anyhow::bail!("configuration unreadable"),
                false => Ok(batch),
            }
        }
        fn record_targets(&mut self, batch: usize, targets: &[i32]) -> Result<()> {
            self.calls.push(format!("record {batch} {targets:?}"));
            match self.fail_targets == Some(batch) {
                true => anyhow::bail!("No space left on device"),
                false => Ok(()),
            }
        }
        fn signal(&mut self, batch: &[i32], fresh: usize) -> Vec<i32> {
            assert_eq!(
                fresh, self.batch,
                "each batch signals with what was read for it"
            );
            self.calls.push(format!("signal {batch:?}"));
            batch.to_vec()
        }
        fn observe(
            &mut self,
            _: &[i32],
            sent: Vec<i32>,
        ) -> (Vec<(i32, OutcomeKind)>, Option<anyhow::Error>) {
            self.calls.push(format!("observe {sent:?}"));
            let lost = self.fail_observe == Some(self.batch);
            let kind = if lost {
                OutcomeKind::Unknown
            } else {
                OutcomeKind::Terminated
            };
            let error = lost.then(|| anyhow::anyhow!("connection lost"));
            (sent.into_iter().map(|p| (p, kind)).collect(), error)
        }
        fn record_outcomes(&mut self, outcomes: &[(i32, OutcomeKind)]) -> Result<()> {
            self.calls.push(format!("outcomes {}", outcomes.len()));
            match self.fail_outcomes == Some(self.batch) {
                true => anyhow::bail!("No space left on device"),
                false => Ok(()),
            }
        }
        fn kind(o: &(i32, OutcomeKind)) -> OutcomeKind {
            o.1
        }
    }

    fn run_five(mut m: Journal) -> (Ran<(i32, OutcomeKind)>, Vec<String>, Vec<usize>) {
        let mut progress = Vec::new();
        let ran = run(&mut m, &[1, 2, 3, 4, 5], 2, &mut |n| progress.push(n));
        (ran, m.calls, progress)
    }

    #[test]
    fn each_batch_is_recorded_before_it_is_signalled_and_its_outcomes_after() {
        let (ran, calls, progress) = run_five(Journal::default());
        assert_eq!(
            calls,
            [
                "prepare 1",
                "record 1 [1, 2]",
                "signal [1, 2]",
                "observe [1, 2]",
                "outcomes 2",
                "prepare 2",
                "record 2 [3, 4]",
                "signal [3, 4]",
                "observe [3, 4]",
                "outcomes 2",
                "prepare 3",
                "record 3 [5]",
                "signal [5]",
                "observe [5]",
                "outcomes 1",
            ]
        );
        assert_eq!(progress, [2, 4, 5]);
        assert!(ran.stopped.is_none());
        assert_eq!(
            (
                ran.summary.targeted,
                ran.summary.terminated,
                ran.summary.not_attempted
            ),
            (5, 5, 0)
        );
    }

    #[test]
    fn a_stop_request_ends_the_run_before_the_next_batch() {
        let (ran, calls, _) = run_five(Journal {
            stop_before: Some(2),
            ..Journal::default()
        });
        assert!(matches!(ran.stopped, Some(Stop::Interrupted)));
        assert_eq!(
            calls.last().unwrap(),
            "outcomes 2",
            "the batch in flight was finished"
        );
        assert_eq!((ran.outcomes.len(), ran.summary.not_attempted), (2, 3));
    }

    #[test]
    fn a_batch_that_cannot_be_recorded_or_prepared_is_not_signalled() {
        let (ran, calls, _) = run_five(Journal {
            fail_targets: Some(2),
            ..Journal::default()
        });
        assert!(matches!(ran.stopped, Some(Stop::Log(_))));
        assert_eq!(calls.last().unwrap(), "record 2 [3, 4]");
        assert_eq!(ran.summary.not_attempted, 3);

        let (ran, calls, _) = run_five(Journal {
            fail_prepare: Some(2),
            ..Journal::default()
        });
        assert!(matches!(ran.stopped, Some(Stop::Medium(_))));
        assert_eq!(calls.last().unwrap(), "prepare 2");
        assert_eq!(ran.outcomes.len(), 2);
    }

    #[test]
    fn a_failure_after_signalling_ends_the_run_with_that_batch_recorded() {
        let (ran, calls, progress) = run_five(Journal {
            fail_observe: Some(2),
            fail_outcomes: Some(2),
            ..Journal::default()
        });
        // The medium's error wins over the log's: it is the one that says what became of the batch.
        assert!(matches!(ran.stopped, Some(Stop::Medium(_))));
        assert_eq!(
            calls.last().unwrap(),
            "outcomes 2",
            "what is known of the batch is recorded"
        );
        assert_eq!(progress, [2, 4]);
        assert_eq!(
            (
                ran.summary.terminated,
                ran.summary.unknown,
                ran.summary.not_attempted
            ),
            (2, 2, 1)
        );

        let (ran, _, _) = run_five(Journal {
            fail_outcomes: Some(1),
            ..Journal::default()
        });
        assert!(matches!(ran.stopped, Some(Stop::Log(_))));
        assert_eq!((ran.outcomes.len(), ran.summary.not_attempted), (2, 3));
    }
}
