//! How a run ends: [`Exit`] and the process exit code it maps to, and the errors that carry one
//! ([`refuse`]: a usage error or refusal, exit 2). A leaf: every layer may refuse.

use crate::report::Level;

/// How a run ends, and the process exit code that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Success,
    /// 1: something failed (a target, a connection, a session that could not be signalled).
    Failure,
    /// 2: a usage error or a refusal (no terminal and no --yes, a declined prompt): nothing was done.
    Usage,
    /// `check`: the plugin state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    Nagios(Level),
    /// A stop signal ended the run: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
    Signal(i32),
    /// The exit code of the command `sandbox` ran.
    Child(u8),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Nagios(level) => level.nagios_code(),
            Exit::Signal(n) => u8::try_from(128 + n).unwrap_or(1),
            Exit::Child(code) => code,
        }
    }
}

/// An error that ends the run with a particular [`Exit`] (a refusal: [`Exit::Usage`]) after its message is
/// printed.
#[derive(Debug)]
pub struct ExitWith {
    pub exit: Exit,
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// A usage error or refusal: printed like any error, exit code 2.
pub fn refuse(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ExitWith {
        exit: Exit::Usage,
        message: message.into(),
    })
}

/// The exit of a run that ended with `err`: the one its [`ExitWith`] names, [`Exit::Failure`] otherwise.
pub fn exit_of(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|c| c.downcast_ref::<ExitWith>())
        .map(|e| e.exit)
        .unwrap_or(Exit::Failure)
}
