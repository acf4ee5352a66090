//! One module per subcommand.

pub mod completions;
pub mod sessions;
pub mod status;
pub mod tune;
