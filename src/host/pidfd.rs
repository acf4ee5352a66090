//! Signalling a process through a pidfd (Linux 5.3+): the descriptor names one process, so a signal
//! sent through it can never reach another process that took over the pid after the one pgconn checked
//! has exited.

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};

/// A process, held by a pidfd.
pub struct Pidfd {
    fd: OwnedFd,
}

impl Pidfd {
    /// Open a pidfd for `pid`: `NotFound` when no such process exists, `Unsupported` before Linux 5.3.
    pub fn open(pid: i32) -> io::Result<Pidfd> {
        // Pid 0 and negative pids name process groups for kill(2): never one process.
        let pid = Pid::from_raw(pid).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pid} is not a process id"),
            )
        })?;
        match pidfd_open(pid, PidfdFlags::empty()) {
            Ok(fd) => Ok(Pidfd { fd }),
            Err(Errno::SRCH) => Err(io::Error::new(io::ErrorKind::NotFound, "no such process")),
            Err(Errno::NOSYS) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "pidfd_open is not available (Linux 5.3 or later is needed)",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Send SIGTERM to the process this descriptor names; `NotFound` when it has exited meanwhile.
    pub fn terminate(&self) -> io::Result<()> {
        match pidfd_send_signal(&self.fd, Signal::TERM) {
            Ok(()) => Ok(()),
            Err(Errno::SRCH) => Err(io::Error::new(io::ErrorKind::NotFound, "it has exited")),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the process has exited (its pidfd is readable then).
    pub fn exited(&self) -> bool {
        self.wait(Duration::ZERO)
    }

    /// Wait until the process exits, at most `timeout`; whether it did.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            let within = Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            };
            match poll(&mut fds, Some(&within)) {
                Ok(n) => return n > 0,
                Err(Errno::INTR) if !left.is_zero() => continue,
                Err(_) => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_terminated_and_seen_to_exit() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let fd = Pidfd::open(child.id() as i32).unwrap();
        assert!(!fd.exited());
        fd.terminate().unwrap();
        assert!(fd.wait(Duration::from_secs(5)));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(child.wait().unwrap().signal(), Some(Signal::TERM.as_raw()));
        // The process is gone: its descriptor still names it, and reaches nobody else.
        assert_eq!(fd.terminate().unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
