//! The unix sockets of this network namespace from the kernel's sock_diag netlink interface (what
//! `ss -xp` reads): each socket's inode, the path it is bound to and its peer's inode. The server's
//! end of a connection accepted on PostgreSQL's socket carries the listening path
//! (`<socket_dir>/.s.PGSQL.<port>`); its peer is the client's socket. /proc/net/unix has no peers.
//!
//! A small request over rustix's sockets rather than `netlink-packet-sock-diag` + `netlink-sys`: one
//! dump request (40 bytes) and two attributes to read do not need three more crates, and rustix, which
//! is already here, keeps the crate free of `unsafe`. Needs no privilege.

use std::collections::HashMap;
use std::io;

use rustix::net::{
    netlink, recv, sendto, socket_with, AddressFamily, RecvFlags, SendFlags, SocketFlags,
    SocketType,
};

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const AF_UNIX: u8 = 1;
/// linux/unix_diag.h: what to show, and the attributes that carry it.
const UDIAG_SHOW_NAME: u32 = 0x1;
const UDIAG_SHOW_PEER: u32 = 0x4;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;

/// One unix socket as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    /// The path it is bound to (an accepted socket carries its listener's); abstract names start with
    /// a NUL byte.
    pub name: Option<Vec<u8>>,
    /// The inode of the socket at the other end of the connection.
    pub peer: Option<u64>,
}

/// The dump request: a netlink header and a `unix_diag_req` for every state, with names and peers.
fn request() -> Vec<u8> {
    let mut r = Vec::with_capacity(40);
    r.extend_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    r.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    r.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes()); // nlmsg_flags
    r.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    r.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
    r.push(AF_UNIX); // sdiag_family
    r.push(0); // sdiag_protocol
    r.extend_from_slice(&0u16.to_ne_bytes()); // pad
    r.extend_from_slice(&u32::MAX.to_ne_bytes()); // udiag_states: all
    r.extend_from_slice(&0u32.to_ne_bytes()); // udiag_ino
    r.extend_from_slice(&(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER).to_ne_bytes()); // udiag_show
    r.extend_from_slice(&[0u8; 8]); // udiag_cookie
    r
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// What one `recv` brought: sockets by inode into `into`; whether the dump is done.
fn parse(buf: &[u8], into: &mut HashMap<u64, UnixSocket>) -> io::Result<bool> {
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32_at(buf, at).unwrap_or(0) as usize;
        let kind = u16_at(buf, at + 4).unwrap_or(0);
        if len < 16 || at + len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a sock_diag message that does not fit",
            ));
        }
        let msg = &buf[at..at + len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = u32_at(msg, 16).map(|e| e as i32).unwrap_or(0);
                return Err(io::Error::from_raw_os_error(-errno));
            }
            SOCK_DIAG_BY_FAMILY => {
                // unix_diag_msg: family, type, state, pad (one byte each), inode, cookie[2].
                let Some(inode) = u32_at(msg, 16 + 4) else {
                    at += (len + 3) & !3;
                    continue;
                };
                let mut s = UnixSocket {
                    name: None,
                    peer: None,
                };
                let mut a = 16 + 16;
                while a + 4 <= msg.len() {
                    let alen = u16_at(msg, a).unwrap_or(0) as usize;
                    let atype = u16_at(msg, a + 2).unwrap_or(0);
                    if alen < 4 || a + alen > msg.len() {
                        break;
                    }
                    let data = &msg[a + 4..a + alen];
                    match atype {
                        UNIX_DIAG_NAME => {
                            // A path as the binder passed it, often with its terminating NUL.
                            let mut name = data.to_vec();
                            if name.first() != Some(&0) {
                                while name.last() == Some(&0) {
                                    name.pop();
                                }
                            }
                            s.name = Some(name);
                        }
                        UNIX_DIAG_PEER => s.peer = u32_at(data, 0).map(u64::from),
                        _ => {}
                    }
                    a += (alen + 3) & !3;
                }
                into.insert(u64::from(inode), s);
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    Ok(false)
}

/// Every unix socket of this network namespace, by inode.
pub fn dump() -> io::Result<HashMap<u64, UnixSocket>> {
    let fd = socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC,
        Some(netlink::SOCK_DIAG),
    )?;
    sendto(
        &fd,
        &request(),
        SendFlags::empty(),
        &netlink::SocketAddrNetlink::new(0, 0),
    )?;
    let mut out = HashMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (n, _) = recv(&fd, &mut buf[..], RecvFlags::empty())?;
        if n == 0 || parse(&buf[..n], &mut out)? {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::{UnixListener, UnixStream};

    /// The inode of a socket this process holds (its descriptor's link in /proc).
    fn inode(fd: &impl std::os::fd::AsRawFd) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .unwrap()
            .ino()
    }

    #[test]
    fn an_accepted_connection_carries_the_listeners_path_and_its_peer_is_the_client() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".s.PGSQL.5499");
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).unwrap();
        let (server, _) = listener.accept().unwrap();
        let all = dump().unwrap();
        let s = &all[&inode(&server)];
        assert_eq!(s.name.as_deref(), Some(path.as_os_str().as_encoded_bytes()));
        assert_eq!(s.peer, Some(inode(&client)));
        let c = &all[&inode(&client)];
        assert_eq!(c.peer, Some(inode(&server)));
        assert_eq!(c.name, None, "the client's end is not bound");
    }

    #[test]
    fn a_truncated_message_is_an_error() {
        let mut m = HashMap::new();
        let mut b = 100u32.to_ne_bytes().to_vec();
        b.extend_from_slice(&[0u8; 12]);
        assert!(parse(&b, &mut m).is_err());
        let mut done = 16u32.to_ne_bytes().to_vec();
        done.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        done.extend_from_slice(&[0u8; 10]);
        assert!(parse(&done, &mut m).unwrap());
    }
}
