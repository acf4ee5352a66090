//! What the kernel shows a backend doing, independently of its title: whether it is blocked waiting
//! for its client to send something. An idle backend (idle, or idle in a transaction) sleeps in
//! `epoll_wait` on the wait set that holds its client connection, waiting for it to become readable;
//! a backend running a query sleeps elsewhere when it sleeps at all (`pg_sleep`, a lock, I/O: the
//! latch's own wait set, without the client socket) or runs on a CPU.
//!
//! Read from `/proc/PID/syscall` (the system call it is blocked in and its arguments: needs root or the
//! process's user), `/proc/PID/fdinfo/EPFD` (the descriptors that epoll set watches, and for what),
//! `/proc/PID/fd` (which of them are sockets) and the postmaster's network namespace's socket tables
//! (`/proc/PM/net/unix`, `tcp`, `tcp6`): the socket it waits on must be a connection accepted on one of
//! the postmaster's own listening sockets (a unix socket of the same path, or a TCP socket on the same
//! port), so that a query waiting on some other server's socket (postgres_fdw, dblink) is not taken
//! for an idle backend.

use std::fs;

use super::sockets::Sockets;

/// What the kernel shows a backend doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Blocked in epoll_wait on the set holding its client connection, for reading only.
    WaitingForClient,
    /// Something else, said in words (`running on a CPU`, `in system call 0 (read)`, ...).
    Other(String),
    /// The kernel would not tell this user (no ptrace access: root, or the cluster's OS user).
    Hidden(String),
}

/// The epoll system calls a wait set's wait may be in, on this architecture.
fn is_epoll_wait(nr: i64) -> bool {
    use linux_raw_sys::general as nr_;
    // The architectures of the kernel's generic system call table have no epoll_wait: their C library
    // calls epoll_pwait.
    #[cfg(not(any(
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "riscv32",
        target_arch = "loongarch64",
        target_arch = "csky",
        target_arch = "hexagon"
    )))]
    if nr == i64::from(nr_::__NR_epoll_wait) {
        return true;
    }
    nr == i64::from(nr_::__NR_epoll_pwait) || nr == i64::from(nr_::__NR_epoll_pwait2)
}

/// `/proc/PID/syscall`: `running`, or the number of the call it is blocked in and its arguments in
/// hex (`232 0x4 0x55bd552d1220 0x1 0xffffffff ...`), or `-1 ...` when blocked outside a system call.
fn parse_syscall(text: &str) -> Option<(i64, Vec<u64>)> {
    let mut f = text.split_whitespace();
    let nr: i64 = f.next()?.parse().ok()?;
    let args = f
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(u64::MAX))
        .collect();
    Some((nr, args))
}

/// `tfd: FD events: HEX data: HEX pos:N ino:HEX sdev:HEX` lines of an epoll descriptor's fdinfo: the
/// event mask and the inode of each file the set watches (the inode names a socket exactly, whatever
/// descriptor number it has now).
fn parse_epoll_fdinfo(text: &str) -> Vec<(u32, u64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("tfd:")?;
            let events = rest.split_once("events:")?.1.split_whitespace().next()?;
            let events = u32::from_str_radix(events, 16).ok()?;
            let ino = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("ino:"))
                .and_then(|v| u64::from_str_radix(v, 16).ok())?;
            Some((events, ino))
        })
        .collect()
}

/// Whether backend `pid` is blocked waiting for its client (`client_port`: the port its title shows
/// for a TCP client, None for a unix socket). `sockets`: the cluster's, None when this user cannot read
/// them. What the kernel shows is read first and then once more at the end, unchanged: the backend was
/// in that one wait all along, and the caller signals right after.
pub fn observe(pid: i32, client_port: Option<u16>, sockets: Option<&Sockets>) -> Seen {
    let read_syscall = || fs::read_to_string(format!("/proc/{pid}/syscall"));
    let first = match read_syscall() {
        Ok(t) => t,
        Err(e) => {
            return Seen::Hidden(format!(
                "the kernel does not show this user what it is doing (/proc/{pid}/syscall: {e})"
            ))
        }
    };
    if first.trim() == "running" {
        return Seen::Other("it was running on a CPU".into());
    }
    let Some((nr, args)) = parse_syscall(&first) else {
        return Seen::Other(format!("unreadable /proc/{pid}/syscall: {}", first.trim()));
    };
    if !is_epoll_wait(nr) {
        return Seen::Other(format!(
            "it was in system call {nr}, not waiting on an epoll set"
        ));
    }
    let Some(&epfd) = args.first() else {
        return Seen::Other(format!("unreadable /proc/{pid}/syscall"));
    };
    let fdinfo = match fs::read_to_string(format!("/proc/{pid}/fdinfo/{epfd}")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Seen::Hidden(format!(
                "the kernel does not show this user its descriptors ({e})"
            ))
        }
        Err(e) => return Seen::Other(format!("its epoll set went away ({e})")),
    };
    let Some(sockets) = sockets else {
        return Seen::Hidden("the postmaster's sockets cannot be read by this user".into());
    };
    const EPOLLIN: u32 = 0x001;
    const EPOLLOUT: u32 = 0x004;
    let waits_to_read_client = parse_epoll_fdinfo(&fdinfo).iter().any(|(events, ino)| {
        events & EPOLLIN != 0
            && events & EPOLLOUT == 0
            && sockets.is_client_connection(*ino, client_port)
    });
    if !waits_to_read_client {
        return Seen::Other("it was waiting, but not for its client to send something".into());
    }
    match read_syscall() {
        Ok(again) if again == first => Seen::WaitingForClient,
        _ => Seen::Other("it woke up while pgconn looked".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_and_epoll_lines_read_as_the_kernel_writes_them() {
        assert_eq!(
            parse_syscall(
                "232 0x4 0x55bd552d1220 0x1 0xffffffff 0xffffffffffffffff 0x0 0x7ff 0x7fb\n"
            ),
            Some((
                232,
                vec![4, 0x55bd552d1220, 1, 0xffffffff, u64::MAX, 0, 0x7ff, 0x7fb]
            ))
        );
        assert_eq!(parse_syscall("running\n"), None);
        assert_eq!(
            parse_epoll_fdinfo(
                "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n\
                 tfd:        6 events:       19 data:     55bd552d11d8  pos:0 ino:48c3 sdev:9\n\
                 tfd:        3 events:       1c data:     55bd552d1208  pos:0 ino:4c0e sdev:f\n"
            ),
            vec![(0x19, 18627), (0x1c, 0x4c0e)]
        );
    }

    #[test]
    fn a_process_running_or_sleeping_is_not_waiting_for_a_client() {
        let s = Sockets::default();
        // This process (its main thread waits on the test harness, or runs).
        let me = std::process::id() as i32;
        assert!(matches!(observe(me, None, Some(&s)), Seen::Other(_)));
        // A process asleep in another system call (nanosleep): not an epoll wait.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut seen = Seen::Other(String::new());
        for _ in 0..200 {
            seen = observe(pid, None, Some(&s));
            if matches!(&seen, Seen::Other(w) if w.contains("system call")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            matches!(&seen, Seen::Other(w) if w.contains("not waiting on an epoll set")),
            "{seen:?}"
        );
    }
}
