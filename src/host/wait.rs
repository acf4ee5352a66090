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

use super::sockets::{socket_fds, Sockets};

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
    #[cfg(target_arch = "x86_64")]
    if nr == libc::SYS_epoll_wait {
        return true;
    }
    nr == libc::SYS_epoll_pwait || nr == 441 /* epoll_pwait2, the same number everywhere */
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

/// `tfd: FD events: HEX ...` lines of an epoll descriptor's fdinfo: the watched descriptors and
/// their event masks.
fn parse_epoll_fdinfo(text: &str) -> Vec<(u32, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next()? == "tfd:").then_some(())?;
            let fd = f.next()?.parse().ok()?;
            (f.next()? == "events:").then_some(())?;
            let events = u32::from_str_radix(f.next()?, 16).ok()?;
            Some((fd, events))
        })
        .collect()
}

/// Whether backend `pid` is blocked waiting for its client (`client_port`: the port its title shows
/// for a TCP client, None for a unix socket).
pub fn observe(pid: i32, client_port: Option<u16>, sockets: &Sockets) -> Seen {
    let syscall = match fs::read_to_string(format!("/proc/{pid}/syscall")) {
        Ok(t) => t,
        Err(e) => {
            return Seen::Hidden(format!(
                "the kernel does not show this user what it is doing (/proc/{pid}/syscall: {e})"
            ))
        }
    };
    if syscall.trim() == "running" {
        return Seen::Other("it was running on a CPU".into());
    }
    let Some((nr, args)) = parse_syscall(&syscall) else {
        return Seen::Other(format!(
            "unreadable /proc/{pid}/syscall: {}",
            syscall.trim()
        ));
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
        Err(e) => return Seen::Other(format!("its epoll set went away ({e})")),
    };
    let sockets_of_pid = match socket_fds(pid) {
        Ok(s) => s,
        Err(e) => {
            return Seen::Hidden(format!(
                "the kernel does not show this user its descriptors ({e})"
            ))
        }
    };
    const EPOLLIN: u32 = 0x001;
    const EPOLLOUT: u32 = 0x004;
    let waits_to_read_client = parse_epoll_fdinfo(&fdinfo).iter().any(|(fd, events)| {
        events & EPOLLIN != 0
            && events & EPOLLOUT == 0
            && sockets_of_pid
                .get(fd)
                .is_some_and(|inode| sockets.is_client_connection(*inode, client_port))
    });
    if waits_to_read_client {
        Seen::WaitingForClient
    } else {
        Seen::Other("it was waiting, but not for its client to send something".into())
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
            vec![(6, 0x19), (3, 0x1c)]
        );
    }

    #[test]
    fn this_process_is_not_waiting_for_a_client() {
        // Reading its own syscall file while running it: "running".
        let me = std::process::id() as i32;
        let s = Sockets::default();
        assert!(matches!(observe(me, None, &s), Seen::Other(_)));
    }
}
