//! One module per subcommand.

pub mod advise;
pub mod audit;
pub mod batch;
pub mod check;
pub mod exporter;
pub mod fleet;
pub mod kill;
pub mod rescue;
pub mod sandbox;
pub mod sessions;
pub mod status;
pub mod tune;
pub mod watch;

/// A plan of a command that changes something (`kill`'s and `rescue`'s signals, `tune`'s settings): what
/// the one plan → confirm → execute sequence (`run::confirmed`) needs to show it, ask, and record it
/// when it does not act.
pub trait Plan: Sized {
    type Report: serde::Serialize;
    fn report(&self) -> &Self::Report;
    /// Whether there is anything to do (not a dry run, targets or changes, a threshold met).
    fn acts(&self) -> bool;
    /// `--yes`: proceed without asking.
    fn yes(&self) -> bool;
    /// The confirmation question.
    fn question(&self) -> String;
    /// Everything that must hold before the person is asked (tune: the history file can take the
    /// entry, which is written before anything changes).
    fn ready(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// A plan that does not act: its plan and summary go to the audit log, if any.
    fn record_without_acting(self) -> anyhow::Result<Self::Report>;
    /// The warnings said on stderr before the question (those the preview does not show itself).
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
