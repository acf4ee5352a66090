//! `sandbox`: start it, run a command against it or wait for Ctrl-C, remove it.

use anyhow::Result;

use crate::commands::{self, sandbox::SandboxRequest, sandbox::Started};
use crate::exit::Exit;
use crate::{render, term};

/// `sandbox`: start it; then run the given pgconn command against it, or print the exports and wait
/// for Ctrl-C. It is removed either way.
pub fn sandbox(args: &SandboxRequest) -> Result<Exit> {
    let sandbox = match commands::sandbox::start(args, &term::say)? {
        Started::Running(s) => s,
        Started::Interrupted(message) => {
            term::say(&message);
            return Ok(Exit::Signal(nix::sys::signal::Signal::SIGINT as i32));
        }
    };
    if !args.args.is_empty() {
        return Ok(Exit::Child(sandbox.run_child(&args.args)?));
    }
    // stdout may be closed already; the sandbox still runs until Ctrl-C.
    let _ = render::out_raw(&sandbox.exports());
    term::say(&sandbox.banner(args));
    sandbox.run_until_signal(&term::say);
    Ok(Exit::Success)
}
