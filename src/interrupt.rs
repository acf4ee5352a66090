//! SIGINT, SIGTERM and SIGHUP while pgconn acts: Ctrl-C, `timeout`, systemd, a cron wrapper or a dropped
//! SSH session ask it to stop. Once [`Interrupt::install`]ed, the first such signal is only noted: the work
//! in flight is finished and recorded, nothing further is started, and the run exits 128 + the signal's
//! number (130, 143, 129), as a shell reports a process the signal ended. A second signal ends the process
//! at once (the default action), for when finishing is not wanted.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals that ask pgconn to stop.
pub const SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Which stop signal arrived, if any.
#[derive(Debug, Clone)]
pub struct Interrupt {
    received: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Catch SIGINT, SIGTERM and SIGHUP from now on (for the rest of the process).
    pub fn install() -> Result<Interrupt> {
        let received = Arc::new(AtomicUsize::new(0));
        let noted = Arc::new(AtomicBool::new(false));
        for sig in SIGNALS {
            // Registered first, so it runs first: when a signal was noted already, the default action.
            signal_hook::flag::register_conditional_default(sig, noted.clone())
                .and_then(|_| signal_hook::flag::register(sig, noted.clone()))
                .and_then(|_| {
                    signal_hook::flag::register_usize(sig, received.clone(), sig as usize)
                })
                .context("installing the signal handlers")?;
        }
        Ok(Interrupt { received })
    }

    /// The signal received so far, if any.
    pub fn received(&self) -> Option<Signal> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            n => Some(Signal(n as i32)),
        }
    }
}

/// A stop signal that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(pub i32);

impl Signal {
    /// `SIGTERM`, `SIGINT`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self.0 {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            SIGHUP => "SIGHUP",
            _ => "a signal",
        }
    }
}
