//! What kill and rescue report alike once they signal in batches: whether they acted, each target's
//! outcome, the counts, the audit log and what ended the run early. One struct, flattened into both
//! reports, so the two say these things in the same words and places.

use std::path::PathBuf;

use serde::Serialize;

use super::kill::OutcomeKind;

/// The counts of a run's outcomes.
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
    /// Count one outcome.
    pub fn add(&mut self, kind: OutcomeKind) {
        *match kind {
            OutcomeKind::Terminated => &mut self.terminated,
            OutcomeKind::Cancelled => &mut self.cancelled,
            OutcomeKind::Signalled => &mut self.signalled,
            OutcomeKind::Skipped => &mut self.skipped,
            OutcomeKind::Denied => &mut self.denied,
            OutcomeKind::Failed => &mut self.failed,
            OutcomeKind::Unknown => &mut self.unknown,
        } += 1;
    }
}

/// A run that signals targets in batches, as its report shows it. `O` is one target's outcome (a
/// session's, a process's); `E` is what the command observes besides (kill: the server's state counts
/// before and after; rescue: the normal connection tried afterwards), written between the summary and
/// the log as the JSON has always had it.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRun<O, E> {
    /// True once targets were signalled.
    pub acted: bool,
    /// `--wait`.
    pub wait_seconds: f64,
    /// Every target handled, in order.
    pub results: Vec<O>,
    pub summary: Summary,
    #[serde(flatten)]
    pub observed: E,
    pub log: Option<PathBuf>,
    /// Every line meant for the log was written and synced.
    pub log_complete: bool,
    /// The stop signal that ended the run early (`SIGTERM`, ...).
    pub interrupted: Option<String>,
    /// What ended the run early otherwise (the audit log, the server, the host).
    pub error: Option<String>,
}

impl<O, E: Default> BatchRun<O, E> {
    /// A run not yet acted on: `targeted` targets, nothing handled.
    pub fn planned(targeted: usize, wait_seconds: f64, log: Option<PathBuf>) -> BatchRun<O, E> {
        BatchRun {
            acted: false,
            wait_seconds,
            results: Vec::new(),
            summary: Summary {
                targeted,
                ..Summary::default()
            },
            observed: E::default(),
            log,
            log_complete: false,
            interrupted: None,
            error: None,
        }
    }
}
