//! One module per subcommand.

pub mod advise;
pub mod audit;
pub mod check;
pub mod completions;
pub mod fleet;
pub mod kill;
pub mod rescue;
pub mod sandbox;
pub mod sessions;
pub mod status;
pub mod tune;
pub mod watch;
