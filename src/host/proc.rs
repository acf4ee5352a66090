//! Processes as /proc shows them: parent, start time and title. Read without privileges beyond what
//! /proc grants (a title and a start time are public; a working directory needs root or the same user).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rustix::time::{clock_gettime_dynamic, ClockId, DynamicClockId};

use crate::report::{ClientProcess, ClientProcessStatus};

/// One process, read from /proc/PID/stat and /proc/PID/cmdline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    /// Its session id: a PostgreSQL child makes itself a session leader at start (the postmaster's
    /// `InitPostmasterChild` calls setsid), so a backend's is its own pid; a program a backend forks
    /// inherits the backend's.
    pub session: i32,
    /// Start time in clock ticks after boot (field 22 of /proc/PID/stat): with the pid, it names one
    /// process for as long as the machine runs (a reused pid starts later).
    pub start_ticks: u64,
    /// The command line up to its first NUL: a PostgreSQL child's title (`postgres: app appdb [local]
    /// idle`), the postmaster's program name. Not valid UTF-8 is replaced (see `title_utf8`).
    pub title: String,
    /// Whether the title was valid UTF-8 (names are in the server's encoding: a LATIN1 name is not).
    pub title_utf8: bool,
    /// Whether the title may have been cut short: it fills the room PostgreSQL has for it (the
    /// original arguments and environment), so its end (the activity) may be missing. None when /proc
    /// does not say how big that room is (another user's process).
    pub title_truncated: Option<bool>,
}

/// Whether a title of `len` bytes may have been cut to fit the argument and environment area
/// (`env_end - arg_start` bytes): PostgreSQL's buffer is that area less the final NUL, and a title is
/// at most its size less one.
pub fn may_be_truncated(len: usize, room: u64) -> bool {
    len as u64 + 2 >= room
}

/// The fields of /proc/PID/stat that pgconn uses: the parent and the start time. The command name in
/// parentheses may contain spaces and parentheses itself, so the fields are counted after its last `)`.
pub fn parse_stat(stat: &str) -> Option<Stat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), ... starttime (22), ... arg_start (48), env_end (51); field
    // N is at N - 3. The last ones read 0 without ptrace access to the process.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let ppid = fields.get(1)?.parse().ok()?;
    let session = fields.get(3)?.parse().ok()?;
    let start_ticks = field(22)?;
    let room = match (field(48), field(51)) {
        (Some(a), Some(e)) if a > 0 && e > a => Some(e - a),
        _ => None,
    };
    Some(Stat {
        ppid,
        session,
        start_ticks,
        title_room: room,
    })
}

/// The fields of /proc/PID/stat pgconn uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ppid: i32,
    pub session: i32,
    pub start_ticks: u64,
    /// `env_end - arg_start`: the room a process has to write its title over its arguments.
    pub title_room: Option<u64>,
}

/// The first NUL-terminated string of a command line: the title a PostgreSQL child writes over its
/// arguments (padded with NULs on Linux).
pub fn title_of(cmdline: &[u8]) -> &[u8] {
    let end = cmdline
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(cmdline.len());
    &cmdline[..end]
}

/// Read process `pid`; `NotFound` when it is gone.
pub fn read(pid: i32) -> io::Result<Process> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = fs::read_to_string(dir.join("stat"))?;
    let st = parse_stat(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat"))?;
    let cmdline = fs::read(dir.join("cmdline"))?;
    let raw = title_of(&cmdline);
    Ok(Process {
        pid,
        ppid: st.ppid,
        session: st.session,
        start_ticks: st.start_ticks,
        title: String::from_utf8_lossy(raw).into_owned(),
        title_utf8: std::str::from_utf8(raw).is_ok(),
        title_truncated: st.title_room.map(|room| may_be_truncated(raw.len(), room)),
    })
}

/// The arguments of process `pid` (its command line split at NULs): for the postmaster, which keeps
/// its own (`postgres -D DIR -c config_file=...`).
pub fn args(pid: i32) -> io::Result<Vec<String>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline"))?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

/// Every process on the machine (those that vanish while being read are left out).
pub fn all() -> io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(p) = read(pid) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The children of `ppid`, by pid.
pub fn children(ppid: i32) -> io::Result<Vec<Process>> {
    let mut kids: Vec<Process> = all()?.into_iter().filter(|p| p.ppid == ppid).collect();
    kids.sort_by_key(|p| p.pid);
    Ok(kids)
}

/// The real user id of process `pid` (/proc/PID/status, readable by everyone).
pub fn uid(pid: i32) -> io::Result<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Uid in /proc status"))
}

/// The file a process runs (`/proc/PID/exe`), as device and inode: the same for the postmaster and
/// every child it forked, even after the binary was replaced on disk. Needs root or the process's user.
pub fn executable(pid: i32) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(format!("/proc/{pid}/exe"))?;
    Ok((meta.dev(), meta.ino()))
}

/// Where `/proc/PID/exe` points, for messages (`/usr/bin/sleep`).
pub fn executable_path(pid: i32) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// The pid namespaces' view of a process (`NSpid:` of /proc/PID/status): its pid here first, then in
/// each nested namespace, innermost last. One entry when it runs in this pid namespace.
pub fn ns_pids(pid: i32) -> io::Result<Vec<i32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|v| {
            v.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![pid]))
}

/// This machine's name (for reports and logs).
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// When a process that started `ticks` clock ticks after boot started, by the system clock.
pub struct Clock {
    boot: SystemTime,
    ticks_per_second: u64,
}

impl Clock {
    /// The boot time, to the tick: now by the system clock less the time since boot
    /// (`CLOCK_BOOTTIME`, which counts suspended time as process start times do); `btime` of
    /// /proc/stat (whole seconds) where that clock cannot be read. And the clock tick rate.
    pub fn read() -> io::Result<Clock> {
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|&t| t > 0)
            .unwrap_or(100) as u64;
        let up = clock_gettime_dynamic(DynamicClockId::Known(ClockId::Boottime)).map(|ts| {
            Duration::new(
                ts.tv_sec.max(0) as u64,
                ts.tv_nsec.clamp(0, 999_999_999) as u32,
            )
        });
        // (A wall clock earlier than the time since boot, before NTP set it, gives no boot time.)
        let boot = if let Some(b) = up.ok().and_then(|up| SystemTime::now().checked_sub(up)) {
            b
        } else {
            let stat = fs::read_to_string("/proc/stat")?;
            let btime: u64 = stat
                .lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "no btime in /proc/stat")
                })?;
            SystemTime::UNIX_EPOCH + Duration::from_secs(btime)
        };
        Ok(Clock {
            boot,
            ticks_per_second: ticks,
        })
    }

    pub fn started(&self, ticks: u64) -> SystemTime {
        self.boot + Duration::from_secs_f64(ticks as f64 / self.ticks_per_second as f64)
    }

    /// Whether a process that started at `ticks` certainly started after `t`: later by more than two
    /// clock ticks (a start time is counted in whole ticks).
    pub fn started_after(&self, ticks: u64, t: SystemTime) -> bool {
        let margin = Duration::from_secs_f64(2.0 / self.ticks_per_second as f64);
        self.started(ticks) > t + margin
    }

    /// How long ago a process that started at `ticks` did (0 when the clocks disagree).
    pub fn age(&self, ticks: u64) -> Duration {
        SystemTime::now()
            .duration_since(self.started(ticks))
            .unwrap_or_default()
    }
}

/// The client processes behind sessions, found from what this host shows: the TCP tables of this
/// network namespace (`/proc/net/tcp`, `tcp6`), its unix sockets with their peers (sock_diag, see
/// [`super::unix_diag`]) and the socket descriptors of every process (`/proc/*/fd`), each read once
/// when the finder is made, not per session. A process's descriptors are readable by its own user and
/// root only: what cannot be read is `no_permission`, never a guess.
pub struct ClientFinder {
    server_port: u16,
    /// The postmaster of the server pgconn is connected to (the parent of its own backend), when this
    /// pid namespace shows it: a backend pid of another namespace (a server in a container) may name
    /// an unrelated process here, so a unix-socket session's backend must be its child.
    postmaster: Option<i32>,
    tcp: Vec<super::sockets::TcpLine>,
    /// None when the kernel refused the sock_diag dump.
    unix: Option<HashMap<u64, super::unix_diag::UnixSocket>>,
    /// Socket inodes of each process whose descriptors could be read.
    sockets_of: HashMap<i32, Vec<u64>>,
    /// The processes holding each socket inode.
    holders: HashMap<u64, Vec<i32>>,
    /// Processes whose descriptors pgconn may not read (another user's, pgconn not root).
    unreadable: HashSet<i32>,
    local: HashMap<IpAddr, bool>,
}

impl ClientFinder {
    /// Read this host's sockets and every process's socket descriptors, for a server on `server_port`
    /// (its TCP port, and the number in its unix socket's name) that gave pgconn's own session backend
    /// pid `own_backend`.
    pub fn read(server_port: u16, own_backend: i32) -> ClientFinder {
        let mut tcp = Vec::new();
        for table in ["tcp", "tcp6"] {
            if let Ok(text) = fs::read_to_string(format!("/proc/self/net/{table}")) {
                tcp.extend(super::sockets::tcp_lines(&text).filter(|l| !l.listening));
            }
        }
        // Our own backend, as this pid namespace sees it: a postgres process (its executable is the
        // postmaster's, whose child it is) whose parent is the postmaster.
        let postmaster = read(own_backend).ok().map(|p| p.ppid).filter(|&pm| {
            pm > 1
                && match (executable(pm), executable(own_backend)) {
                    (Ok(a), Ok(b)) => a == b,
                    // Not readable (another user's): the parent's title is the postmaster's program.
                    _ => read(pm).is_ok_and(|p| p.title.contains("postgres")),
                }
        });
        let mut f = ClientFinder {
            server_port,
            postmaster,
            tcp,
            unix: super::unix_diag::dump().ok(),
            sockets_of: HashMap::new(),
            holders: HashMap::new(),
            unreadable: HashSet::new(),
            local: HashMap::new(),
        };
        let Ok(dir) = fs::read_dir("/proc") else {
            return f;
        };
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            match super::sockets::socket_fds(pid) {
                Ok(fds) => {
                    let inodes: Vec<u64> = fds.into_values().collect();
                    for i in &inodes {
                        f.holders.entry(*i).or_default().push(pid);
                    }
                    f.sockets_of.insert(pid, inodes);
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    f.unreadable.insert(pid);
                }
                // Gone since the directory was listed.
                Err(_) => {}
            }
        }
        f
    }

    /// The client process of the session of backend `backend_pid`, whose client is `client` (an
    /// address, `local` for a unix socket, None when this role may not see it) and `client_port`.
    pub fn find(
        &mut self,
        backend_pid: i32,
        client: Option<&str>,
        client_port: Option<i32>,
    ) -> ClientProcess {
        let inode = match client {
            None => Err(ClientProcessStatus::NoPermission),
            Some("local") => self.unix_client(backend_pid),
            Some(a) => match a.parse::<IpAddr>() {
                Ok(addr) => self.tcp_client(addr, client_port, self.server_port),
                Err(_) => Err(ClientProcessStatus::NotLocal),
            },
        };
        match inode {
            Ok(inode) => self.holder(inode, backend_pid),
            Err(status) => ClientProcess::unresolved(status),
        }
    }

    /// A unix-socket session: the backend's own descriptors hold the server's end of the connection
    /// (a socket named after the listener, `.s.PGSQL.<port>`); its peer is the client's socket.
    fn unix_client(&self, backend: i32) -> Result<u64, ClientProcessStatus> {
        // The backend pid must be one of the postmaster's children here, or it may be another
        // namespace's number for an unrelated process.
        let Some(postmaster) = self.postmaster else {
            return Err(ClientProcessStatus::OtherNetworkNamespace);
        };
        match read(backend) {
            Ok(p) if p.ppid == postmaster => {}
            Ok(_) => return Err(ClientProcessStatus::Gone),
            Err(_) => return Err(ClientProcessStatus::Gone),
        }
        if self.unreadable.contains(&backend) {
            return Err(ClientProcessStatus::NoPermission);
        }
        let Some(inodes) = self.sockets_of.get(&backend) else {
            return Err(ClientProcessStatus::Gone);
        };
        let Some(unix) = &self.unix else {
            return Err(ClientProcessStatus::NoPermission);
        };
        let suffix = format!("/.s.PGSQL.{}", self.server_port);
        let mut known = false;
        for inode in inodes {
            let Some(s) = unix.get(inode) else { continue };
            known = true;
            if s.name
                .as_deref()
                .is_some_and(|n| n.ends_with(suffix.as_bytes()))
            {
                return match s.peer {
                    Some(peer) if peer != 0 => Ok(peer),
                    _ => Err(ClientProcessStatus::Gone),
                };
            }
        }
        Err(if known || inodes.is_empty() {
            ClientProcessStatus::Gone
        } else {
            // The backend holds sockets this namespace's dump does not list.
            ClientProcessStatus::OtherNetworkNamespace
        })
    }

    /// A TCP session: the client's end is the socket from (client address, client port) to the
    /// server's port in this namespace's tables.
    fn tcp_client(
        &mut self,
        addr: IpAddr,
        port: Option<i32>,
        server_port: u16,
    ) -> Result<u64, ClientProcessStatus> {
        let Some(port) = port.and_then(|p| u16::try_from(p).ok()) else {
            return Err(ClientProcessStatus::Gone);
        };
        let addr = addr.to_canonical();
        let same = |a: Option<IpAddr>| a.map(|a| a.to_canonical()) == Some(addr);
        let sp = server_port;
        if let Some(l) = self
            .tcp
            .iter()
            .find(|l| l.local_port == port && l.remote_port == sp && same(l.local))
        {
            return if l.inode == 0 {
                Err(ClientProcessStatus::Gone)
            } else {
                Ok(l.inode)
            };
        }
        let server_end_here = self
            .tcp
            .iter()
            .any(|l| l.local_port == sp && l.remote_port == port && same(l.remote));
        if !server_end_here {
            return Err(ClientProcessStatus::OtherNetworkNamespace);
        }
        // The server's end is here and the client's is not: a client on another host, unless its
        // address is one of this namespace's (then the connection closed in between).
        let local = *self
            .local
            .entry(addr)
            .or_insert_with(|| std::net::UdpSocket::bind((addr, 0)).is_ok());
        Err(if local {
            ClientProcessStatus::Gone
        } else {
            ClientProcessStatus::NotLocal
        })
    }

    /// The client process of a session PgBouncer holds for `linked`, one of its clients (SHOW CLIENTS):
    /// by the pid PgBouncer read from a unix-socket client's credentials, else by the client's TCP
    /// connection to PgBouncer's port, as any TCP client.
    pub fn find_pooler_client(
        &mut self,
        linked: &crate::report::pgbouncer::LinkedClient,
    ) -> ClientProcess {
        if let Some(pid) = linked.remote_pid {
            return self.describe(pid);
        }
        let addr = linked
            .addr
            .as_deref()
            .and_then(|a| a.parse::<IpAddr>().ok());
        let port = linked.local_port.and_then(|p| u16::try_from(p).ok());
        let (Some(addr), Some(port)) = (addr, port) else {
            return ClientProcess::unresolved(ClientProcessStatus::Gone);
        };
        match self.tcp_client(addr, linked.port, port) {
            Ok(inode) => self.holder(inode, -1),
            Err(status) => ClientProcess::unresolved(status),
        }
    }

    /// The server's own address on the TCP connection from `client`:`client_port` (the local end of
    /// its socket here): where a client on another host connected to.
    pub fn server_address(&self, client: &str, client_port: Option<i32>) -> Option<IpAddr> {
        let addr = client.parse::<IpAddr>().ok()?.to_canonical();
        let port = u16::try_from(client_port?).ok()?;
        self.tcp
            .iter()
            .find(|l| {
                l.local_port == self.server_port
                    && l.remote_port == port
                    && l.remote.map(|a| a.to_canonical()) == Some(addr)
            })
            .and_then(|l| l.local)
            .map(|a| a.to_canonical())
    }

    pub fn server_port(&self) -> u16 {
        self.server_port
    }

    /// The process holding socket `inode` (not the backend itself); the lowest pid when a forked
    /// family shares it.
    fn holder(&self, inode: u64, backend: i32) -> ClientProcess {
        let pid = self
            .holders
            .get(&inode)
            .and_then(|p| p.iter().copied().filter(|&p| p != backend).min());
        let Some(pid) = pid else {
            return ClientProcess::unresolved(if self.unreadable.is_empty() {
                ClientProcessStatus::Gone
            } else {
                ClientProcessStatus::NoPermission
            });
        };
        self.describe(pid)
    }

    /// Process `pid` as a client: its arguments and OS user (both readable by everyone).
    fn describe(&self, pid: i32) -> ClientProcess {
        let (Ok(argv), Ok(uid)) = (args(pid), uid(pid)) else {
            return ClientProcess::unresolved(ClientProcessStatus::Gone);
        };
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        ClientProcess {
            client_pid: Some(pid),
            client_user: Some(user),
            client_command: Some(
                shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" ")),
            ),
            client_program: Some(program_of(&argv)),
            client_process_status: ClientProcessStatus::Found,
        }
    }
}

/// A process's program as `status --by process` groups it: the last part of its first argument
/// (`/usr/bin/psql` → `psql`; a title a process wrote over its arguments, `php-fpm: pool www`, as is).
pub fn program_of(argv: &[String]) -> String {
    let first = argv.first().map(String::as_str).unwrap_or("");
    match first.split_once(' ') {
        // A title with spaces: only its first word can be a path.
        Some((head, rest)) => format!("{} {rest}", head.rsplit('/').next().unwrap_or(head)),
        None => first.rsplit('/').next().unwrap_or(first).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let stat =
            "4242 (postgres: a) b) S 4000 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 \
                    987654 100000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 \
                    0 0 0 140000 140060 140060 140900 0";
        assert_eq!(
            parse_stat(stat),
            Some(Stat {
                ppid: 4000,
                session: 4242,
                start_ticks: 987654,
                title_room: Some(900),
            })
        );
        // Without access to the process, the addresses read 0: the room is unknown.
        let hidden = stat.replace("140000 140060 140060 140900", "0 0 0 0");
        assert_eq!(parse_stat(&hidden).unwrap().title_room, None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_title_that_fills_its_room_may_have_lost_its_end() {
        // Room 100: PostgreSQL's buffer holds 98 characters and a NUL.
        assert!(!may_be_truncated(97, 100));
        assert!(may_be_truncated(98, 100));
        assert!(may_be_truncated(120, 100));
    }

    #[test]
    fn a_program_is_the_last_part_of_its_first_argument() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            program_of(&v(&["/usr/lib/postgresql/15/bin/psql", "-X"])),
            "psql"
        );
        assert_eq!(program_of(&v(&["php-fpm: pool www"])), "php-fpm: pool www");
        assert_eq!(
            program_of(&v(&["/opt/x/node /srv/app.js"])),
            "node /srv/app.js"
        );
        assert_eq!(program_of(&[]), "");
    }

    #[test]
    fn a_local_tcp_client_is_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _server = listener.accept().unwrap();
        let client_port = i32::from(client.local_addr().unwrap().port());
        let me = std::process::id() as i32;
        let mut f = ClientFinder::read(port, me);
        // The "backend" here is this process too: any other pid stands for it.
        let p = f.find(-1, Some("127.0.0.1"), Some(client_port));
        assert_eq!(p.client_process_status, ClientProcessStatus::Found);
        assert_eq!(p.client_pid, Some(me));
        assert_eq!(
            f.find(-1, Some("127.0.0.1"), Some(client_port + 1))
                .client_process_status,
            ClientProcessStatus::OtherNetworkNamespace,
            "no such connection here"
        );
        assert_eq!(
            f.find(-1, None, None).client_process_status,
            ClientProcessStatus::NoPermission
        );
    }

    #[test]
    fn a_title_ends_at_its_first_nul() {
        assert_eq!(
            title_of(b"postgres: app appdb [local] idle\0\0\0\0"),
            b"postgres: app appdb [local] idle"
        );
        assert_eq!(title_of(b"postgres\0-D\0/data\0"), b"postgres");
    }

    #[test]
    fn this_process_reads_as_itself() {
        let me = read(std::process::id() as i32).unwrap();
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
        assert_eq!(
            me.session,
            nix::unistd::getsid(None).unwrap().as_raw(),
            "the session id"
        );
        assert_eq!(
            executable(me.pid).unwrap(),
            executable(std::process::id() as i32).unwrap()
        );
        assert!(me.start_ticks > 0);
        // Its own arguments and environment are far longer than its program name.
        assert_eq!(me.title_truncated, Some(false));
        assert!(me.title_utf8);
        assert!(Clock::read().unwrap().age(me.start_ticks) < Duration::from_secs(3600));
    }

    #[test]
    fn the_time_since_boot_is_the_kernels_to_the_fraction() {
        // /proc/uptime: seconds since boot, suspended time included, to the hundredth.
        let uptime = || -> f64 {
            let text = fs::read_to_string("/proc/uptime").unwrap();
            text.split_whitespace().next().unwrap().parse().unwrap()
        };
        let before = uptime();
        let ts = clock_gettime_dynamic(DynamicClockId::Known(ClockId::Boottime)).unwrap();
        let after = uptime();
        let up = ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9;
        assert!(
            before - 0.01 <= up && up <= after + 0.01,
            "{before} <= {up} <= {after}"
        );
        // And the boot time derived from it is /proc/stat's btime (whole seconds, rounded down).
        let stat = fs::read_to_string("/proc/stat").unwrap();
        let btime: f64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let boot = Clock::read()
            .unwrap()
            .boot
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((boot - btime).abs() < 1.5, "boot {boot}, btime {btime}");
    }
}
