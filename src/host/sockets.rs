//! The sockets of a cluster's network namespace, from `/proc/PID/net/unix`, `tcp` and `tcp6`, and the
//! ones its postmaster listens on (its descriptors, `/proc/PID/fd`): what tells a backend's client
//! connection from any other socket, and whether a connection pgconn was refused on reached this
//! cluster at all.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::IpAddr;

/// A socket of the postmaster's network namespace, as its tables show it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Socket {
    /// A unix socket, its path (a connection accepted on a listening socket carries the listener's).
    Unix {
        path: Option<String>,
        listening: bool,
    },
    /// A TCP socket: its local address and port, and its remote port.
    Tcp {
        local: Option<IpAddr>,
        local_port: u16,
        remote_port: u16,
        listening: bool,
    },
}

/// The sockets of the cluster's network namespace by inode, and those the postmaster listens on.
#[derive(Debug, Clone, Default)]
pub struct Sockets {
    by_inode: HashMap<u64, Socket>,
    unix_paths: HashSet<String>,
    tcp_ports: HashSet<u16>,
    /// The addresses and ports the postmaster listens on (an unspecified address: all of its family).
    tcp_listeners: Vec<(IpAddr, u16)>,
}

/// The socket inodes among a process's descriptors (`socket:[INODE]`), by descriptor.
pub fn socket_fds(pid: i32) -> std::io::Result<HashMap<u32, u64>> {
    let mut out = HashMap::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry.file_name().to_str().and_then(|f| f.parse().ok()) else {
            continue;
        };
        if let Some(inode) = fs::read_link(entry.path())
            .ok()
            .and_then(|l| l.to_str().map(str::to_string))
            .and_then(|l| l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        {
            out.insert(fd, inode);
        }
    }
    Ok(out)
}

/// `/proc/net/unix`: `Num RefCount Protocol Flags Type St Inode [Path]`; a listening socket has
/// `__SO_ACCEPTCON` (0x10000) in its flags.
fn parse_unix(text: &str, into: &mut HashMap<u64, Socket>) {
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(flags), Some(inode)) = (
            f.get(3).and_then(|v| u32::from_str_radix(v, 16).ok()),
            f.get(6).and_then(|v| v.parse().ok()),
        ) else {
            continue;
        };
        into.insert(
            inode,
            Socket::Unix {
                path: f.get(7).map(|p| p.to_string()),
                listening: flags & 0x10000 != 0,
            },
        );
    }
}

/// An address as /proc/net/tcp and tcp6 print it: the address's bytes as 32-bit words in the
/// machine's byte order, each in hex (`0100007F` is 127.0.0.1 on a little-endian machine).
fn parse_address(hex: &str) -> Option<IpAddr> {
    let word = |i: usize| {
        hex.get(i * 8..i * 8 + 8)
            .and_then(|w| u32::from_str_radix(w, 16).ok())
            .map(u32::to_ne_bytes)
    };
    match hex.len() {
        8 => Some(IpAddr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::from(b))
        }
        _ => None,
    }
}

/// One line of `/proc/net/tcp` or `tcp6`: `sl local_address rem_address st ... inode`, addresses as
/// `HEX:PORT`, state `0A` for a listening socket; inode 0 for a connection not yet accepted.
pub(super) struct TcpLine {
    pub local: Option<IpAddr>,
    pub local_port: u16,
    pub remote: Option<IpAddr>,
    pub remote_port: u16,
    pub listening: bool,
    pub inode: u64,
}

pub(super) fn tcp_lines(text: &str) -> impl Iterator<Item = TcpLine> + '_ {
    let port = |a: &str| {
        a.rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
    };
    text.lines().skip(1).filter_map(move |line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        Some(TcpLine {
            local: f
                .get(1)
                .and_then(|a| a.split_once(':'))
                .and_then(|(a, _)| parse_address(a)),
            local_port: port(f.get(1)?)?,
            remote: f
                .get(2)
                .and_then(|a| a.split_once(':'))
                .and_then(|(a, _)| parse_address(a)),
            remote_port: port(f.get(2)?)?,
            listening: *f.get(3)? == "0A",
            inode: f.get(9)?.parse().ok()?,
        })
    })
}

fn parse_tcp(text: &str, into: &mut HashMap<u64, Socket>) {
    for l in tcp_lines(text).filter(|l| l.inode != 0) {
        into.insert(
            l.inode,
            Socket::Tcp {
                local: l.local,
                local_port: l.local_port,
                remote_port: l.remote_port,
                listening: l.listening,
            },
        );
    }
}

/// Whether this network namespace holds the server's end of a TCP connection from local port
/// `client_port` to `port` (accepted or still waiting to be): a connection that went to a listener
/// here, not one a NAT rule sent elsewhere.
pub fn server_end_here(port: u16, client_port: u16) -> bool {
    ["tcp", "tcp6"].iter().any(|t| {
        fs::read_to_string(format!("/proc/self/net/{t}")).is_ok_and(|text| {
            tcp_lines(&text)
                .any(|l| !l.listening && l.local_port == port && l.remote_port == client_port)
        })
    })
}

impl Sockets {
    /// Read the socket tables of the postmaster's network namespace and find its listening sockets.
    pub fn read(postmaster: i32) -> std::io::Result<Sockets> {
        let mut by_inode = HashMap::new();
        parse_unix(
            &fs::read_to_string(format!("/proc/{postmaster}/net/unix"))?,
            &mut by_inode,
        );
        for table in ["tcp", "tcp6"] {
            if let Ok(text) = fs::read_to_string(format!("/proc/{postmaster}/net/{table}")) {
                parse_tcp(&text, &mut by_inode);
            }
        }
        let mut s = Sockets {
            by_inode,
            ..Sockets::default()
        };
        for inode in socket_fds(postmaster)?.values() {
            match s.by_inode.get(inode) {
                Some(Socket::Unix {
                    path: Some(p),
                    listening: true,
                }) => {
                    s.unix_paths.insert(p.clone());
                }
                Some(Socket::Tcp {
                    local,
                    local_port,
                    listening: true,
                    ..
                }) => {
                    s.tcp_ports.insert(*local_port);
                    if let Some(a) = local {
                        s.tcp_listeners.push((*a, *local_port));
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Whether socket `inode` is a client's connection to this cluster: accepted on one of the
    /// postmaster's unix sockets, or on its TCP port from the client port the title shows.
    pub fn is_client_connection(&self, inode: u64, client_port: Option<u16>) -> bool {
        match self.by_inode.get(&inode) {
            Some(Socket::Unix {
                path: Some(p),
                listening: false,
            }) => client_port.is_none() && self.unix_paths.contains(p),
            Some(Socket::Tcp {
                local_port,
                remote_port,
                listening: false,
                ..
            }) => {
                self.tcp_ports.contains(local_port) && client_port.is_none_or(|c| c == *remote_port)
            }
            _ => false,
        }
    }

    /// The paths of the unix sockets the postmaster listens on, as its own file system names them.
    pub fn unix_listeners(&self) -> impl Iterator<Item = &str> {
        self.unix_paths.iter().map(String::as_str)
    }

    /// Whether the postmaster listens on TCP address `addr` and `port` (itself, or the unspecified
    /// address of its family).
    pub fn listens_on(&self, addr: IpAddr, port: u16) -> bool {
        self.tcp_listeners.iter().any(|(a, p)| {
            *p == port && (*a == addr || (a.is_unspecified() && a.is_ipv4() == addr.is_ipv4()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_tables_read_as_the_kernel_writes_them() {
        let mut m = HashMap::new();
        parse_unix(
            "Num       RefCount Protocol Flags    Type St Inode Path\n\
             00000000eafb0c4f: 00000002 00000000 00010000 0001 01 18600 /tmp/x/.s.PGSQL.5499\n\
             00000000eafb0c4f: 00000003 00000000 00000000 0001 03 18627 /tmp/x/.s.PGSQL.5499\n\
             0000000000000000: 00000003 00000000 00000000 0001 03 18628\n",
            &mut m,
        );
        parse_tcp(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: 0100007F:1573 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 30001 1\n\
             1: 0100007F:1573 0100007F:D431 01 00000000:00000000 00:00000000 00000000   101        0 30002 1\n\
             2: 0100007F:D432 0100007F:1538 01 00000000:00000000 00:00000000 00000000   101        0 30003 1\n",
            &mut m,
        );
        let mut s = Sockets {
            by_inode: m,
            ..Sockets::default()
        };
        s.unix_paths.insert("/tmp/x/.s.PGSQL.5499".into());
        s.tcp_ports.insert(0x1573);
        assert!(s.is_client_connection(18627, None));
        assert!(!s.is_client_connection(18600, None), "the listener itself");
        assert!(
            !s.is_client_connection(18628, None),
            "a socket with no path"
        );
        assert!(s.is_client_connection(30002, Some(0xD431)));
        assert!(s.is_client_connection(30002, None));
        assert!(
            !s.is_client_connection(30002, Some(1)),
            "another client port"
        );
        assert!(
            !s.is_client_connection(30003, Some(0xD432)),
            "a connection to another server (postgres_fdw) is not its client"
        );
        assert!(!s.is_client_connection(99, None));
    }

    #[test]
    fn addresses_and_listeners_read_as_the_kernel_writes_them() {
        let v4 = u32::from_ne_bytes([127, 0, 0, 1]);
        assert_eq!(
            parse_address(&format!("{v4:08X}")),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        let one = u32::from_ne_bytes([0, 0, 0, 1]);
        assert_eq!(
            parse_address(&format!("000000000000000000000000{one:08X}")),
            Some("::1".parse().unwrap())
        );
        assert_eq!(parse_address("0100"), None);
        let s = Sockets {
            tcp_listeners: vec![
                ("127.0.0.1".parse().unwrap(), 5432),
                ("::".parse().unwrap(), 5433),
            ],
            ..Sockets::default()
        };
        assert!(s.listens_on("127.0.0.1".parse().unwrap(), 5432));
        assert!(!s.listens_on("127.0.0.2".parse().unwrap(), 5432));
        assert!(
            !s.listens_on("127.0.0.1".parse().unwrap(), 5433),
            "v6 wildcard, v4 address"
        );
        assert!(
            s.listens_on("::1".parse().unwrap(), 5433),
            "the wildcard of its family"
        );
    }

    #[test]
    fn the_server_end_of_a_local_connection_is_found_here() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let client_port = client.local_addr().unwrap().port();
        // Not accepted yet: it waits in the listener's queue, and is found all the same.
        assert!(server_end_here(port, client_port));
        assert!(!server_end_here(port, client_port.wrapping_add(1)));
    }
}
