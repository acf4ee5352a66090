//! One module per subcommand.

pub mod advise;
pub mod audit;
pub mod check;
pub mod fleet;
pub mod kill;
pub mod rescue;
pub mod sandbox;
pub mod sessions;
pub mod status;
pub mod tune;
pub mod watch;

/// A plan that signals sessions (`kill`'s, `rescue`'s): what `lib::run` needs to show it, ask, and
/// record it when it does not act.
pub trait SignalPlan: Sized {
    type Report: serde::Serialize;
    fn report(&self) -> &Self::Report;
    /// Whether there is anything to signal (not a dry run, targets, a threshold met).
    fn acts(&self) -> bool;
    /// `--yes`: proceed without asking.
    fn yes(&self) -> bool;
    /// The confirmation question.
    fn question(&self) -> String;
    /// A plan that does not act: its plan and summary go to the audit log.
    fn record_without_acting(self) -> anyhow::Result<Self::Report>;
    fn warnings(report: &Self::Report) -> &[String];
    /// `--quiet`: nothing is shown unless something was done or went wrong.
    fn quiet(&self) -> bool {
        false
    }
    /// Whether the plan saw less than it needed to: sessions that could match were not visible to this
    /// role. The run then exits 1 (after acting on what it could see).
    fn incomplete(_report: &Self::Report) -> bool {
        false
    }
}
