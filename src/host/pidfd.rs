//! Signalling a process through a pidfd (Linux 5.3+): the descriptor names one process, so a signal
//! sent through it can never reach another process that took over the pid after the one pgconn checked
//! has exited.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// A process, held by a pidfd.
pub struct Pidfd {
    fd: OwnedFd,
}

impl Pidfd {
    /// Open a pidfd for `pid`: `NotFound` when no such process exists, `Unsupported` before Linux 5.3.
    pub fn open(pid: i32) -> io::Result<Pidfd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ESRCH) => io::Error::new(io::ErrorKind::NotFound, "no such process"),
                Some(libc::ENOSYS) => io::Error::new(
                    io::ErrorKind::Unsupported,
                    "pidfd_open is not available (Linux 5.3 or later is needed)",
                ),
                _ => e,
            });
        }
        // SAFETY: the descriptor was just returned to us and is owned by nobody else.
        Ok(Pidfd {
            fd: unsafe { OwnedFd::from_raw_fd(fd as i32) },
        })
    }

    /// Send SIGTERM to the process this descriptor names; `NotFound` when it has exited meanwhile.
    pub fn terminate(&self) -> io::Result<()> {
        // SAFETY: a valid pidfd, a signal number, no siginfo, no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                libc::SIGTERM,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ESRCH) => io::Error::new(io::ErrorKind::NotFound, "it has exited"),
                _ => e,
            });
        }
        Ok(())
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
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one pollfd that lives for the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc > 0 {
                return true;
            }
            if rc == 0 {
                return false;
            }
            if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) || left.is_zero() {
                return false;
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
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
        // The process is gone: its descriptor still names it, and reaches nobody else.
        assert_eq!(fd.terminate().unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
