//! One module per subcommand.

pub mod advise;
pub mod completions;
pub mod kill;
pub mod sandbox;
pub mod sessions;
pub mod status;
pub mod tune;
