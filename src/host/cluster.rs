//! A PostgreSQL cluster on this machine, found without a database connection: through its data
//! directory's postmaster.pid, the postmaster's pid, or as the only postmaster running.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use super::proc;

/// A running postmaster and what its postmaster.pid says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmaster {
    pub pid: i32,
    pub pgdata: PathBuf,
    /// The port it listens on (line 4 of postmaster.pid).
    pub port: Option<u16>,
    /// Its first unix socket directory (line 5; empty when it listens on no socket).
    pub socket_dir: Option<PathBuf>,
    /// The start time of the postmaster process, in ticks after boot (see [`proc::Process`]).
    pub start_ticks: u64,
    /// The OS user it runs as.
    pub uid: u32,
}

/// What a postmaster.pid file says: pid, data directory, port, first socket directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFile {
    pub pid: i32,
    pub pgdata: PathBuf,
    pub port: Option<u16>,
    pub socket_dir: Option<PathBuf>,
}

/// Parse postmaster.pid: its lines are the pid, the data directory, the start time, the port, the
/// first socket directory, the listen address, the shared memory key and the status.
pub fn parse_pid_file(text: &str) -> Option<PidFile> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok()?;
    let pgdata = PathBuf::from(lines.get(1)?.trim_end());
    let port = lines.get(3).and_then(|l| l.trim().parse().ok());
    let socket_dir = lines
        .get(4)
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from);
    Some(PidFile {
        pid,
        pgdata,
        port,
        socket_dir,
    })
}

fn read_pid_file(pgdata: &Path) -> Result<PidFile> {
    let path = pgdata.join("postmaster.pid");
    let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!(
            "{} does not exist: no server is running on data directory {}",
            path.display(),
            pgdata.display()
        ),
        std::io::ErrorKind::PermissionDenied => anyhow!(
            "cannot read {} ({e}): run as root or as the cluster's OS user (e.g. `sudo -u postgres`)",
            path.display()
        ),
        _ => anyhow!("cannot read {}: {e}", path.display()),
    })?;
    parse_pid_file(&text)
        .ok_or_else(|| anyhow!("{} cannot be read as a postmaster.pid", path.display()))
}

/// The postmaster of data directory `pgdata`: its postmaster.pid names a process that is running and
/// whose working directory is that data directory (a stale pid file names another process, or none).
pub fn from_pgdata(pgdata: &Path) -> Result<Postmaster> {
    let pf = read_pid_file(pgdata)?;
    let want = fs::canonicalize(pgdata).unwrap_or_else(|_| pgdata.to_path_buf());
    let runs_here = proc::read(pf.pid).is_ok()
        && fs::read_link(format!("/proc/{}/cwd", pf.pid)).is_ok_and(|cwd| cwd == want);
    if !runs_here {
        // The pid file may be one written in another pid namespace (a container seen from its host).
        if let Some(pm) = in_another_namespace(&want, pf.pid) {
            return Err(another_namespace(&pm));
        }
    }
    let p = proc::read(pf.pid).map_err(|_| {
        anyhow!(
            "{}/postmaster.pid names pid {}, which is not running: the server is not running (a stale \
             pid file)",
            pgdata.display(),
            pf.pid
        )
    })?;
    let cwd = fs::read_link(format!("/proc/{}/cwd", pf.pid)).with_context(|| {
        format!(
            "cannot check that pid {} is the postmaster of {} (run as root or as the cluster's OS user)",
            pf.pid,
            pgdata.display()
        )
    })?;
    if cwd != want {
        bail!(
            "{}/postmaster.pid names pid {}, but that process runs in {}, not in the data directory: \
             the pid file is stale",
            pgdata.display(),
            pf.pid,
            cwd.display()
        );
    }
    Ok(Postmaster {
        pid: pf.pid,
        pgdata: want,
        port: pf.port,
        socket_dir: pf.socket_dir,
        start_ticks: p.start_ticks,
        uid: proc::uid(pf.pid)?,
    })
}

/// A postmaster running in a pid namespace nested below this one (a container seen from its host):
/// its pid here and there, and its data directory as its own file system names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elsewhere {
    pub pid: i32,
    pub inner_pid: i32,
    pub pgdata: PathBuf,
}

/// Process `pid` as a postmaster of a nested pid namespace: it runs there as `NSpid`'s last pid, and
/// the postmaster.pid of its working directory (read through /proc, whatever its mount namespace)
/// names that pid.
fn elsewhere(pid: i32) -> Option<Elsewhere> {
    let ns = proc::ns_pids(pid).ok()?;
    let inner = *ns.last()?;
    if ns.len() < 2 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/cwd/postmaster.pid")).ok()?;
    let pf = parse_pid_file(&text)?;
    (pf.pid == inner).then_some(Elsewhere {
        pid,
        inner_pid: inner,
        pgdata: pf.pgdata,
    })
}

/// The postmaster of data directory `pgdata` (as this machine names it) when it runs in a nested pid
/// namespace, where its postmaster.pid's pid `inner_pid` means another process than here.
fn in_another_namespace(pgdata: &Path, inner_pid: i32) -> Option<Elsewhere> {
    use std::os::unix::fs::MetadataExt;
    // The same directory by device and inode: its path differs between mount namespaces.
    let id = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let want = id(pgdata)?;
    proc::all().ok()?.into_iter().find_map(|p| {
        let e = elsewhere(p.pid)?;
        (e.inner_pid == inner_pid && id(Path::new(&format!("/proc/{}/cwd", p.pid))) == Some(want))
            .then_some(e)
    })
}

/// Refused: rescue reads and signals processes by the pids of its own namespace, so it runs inside
/// the cluster's.
pub fn another_namespace(e: &Elsewhere) -> anyhow::Error {
    let data = crate::report::shell_quote(&e.pgdata.display().to_string());
    crate::exit::refuse(format!(
        "the cluster of {} runs in another pid namespace (a container): its postmaster is pid {} here \
         and pid {} there. pgconn rescue reads titles and sends signals by the pids of its own \
         namespace, so it must run inside that one, with pgconn present there: for example `docker \
         cp pgconn CONTAINER:/usr/local/bin/pgconn`, then `docker exec -u postgres CONTAINER pgconn \
         rescue --pgdata {data} ...`; or, with pgconn in the container's file system, `nsenter \
         --target {} --pid --mount -- pgconn rescue --pgdata {data} ...`",
        e.pgdata.display(),
        e.pid,
        e.inner_pid,
        e.pid
    ))
}

/// The postmaster with pid `pid`: it runs in its data directory, whose postmaster.pid names it.
pub fn from_pid(pid: i32) -> Result<Postmaster> {
    proc::read(pid).map_err(|_| anyhow!("no process with pid {pid} is running"))?;
    if let Some(e) = elsewhere(pid) {
        return Err(another_namespace(&e));
    }
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).with_context(|| {
        format!("cannot read the working directory of pid {pid} (run as root or as the cluster's OS user)")
    })?;
    match from_pgdata(&cwd) {
        Ok(pm) if pm.pid == pid => Ok(pm),
        _ => bail!(
            "pid {pid} is not a postmaster: its working directory {} holds no postmaster.pid naming it \
             (give the postmaster's pid, the first line of postmaster.pid, or --pgdata)",
            cwd.display()
        ),
    }
}

/// Every postmaster this user can act on: of those [`seen`] (the parents of checkpointers), the ones
/// whose data directory it can read and whose postmaster.pid names them. As an ordinary user, only its
/// own.
pub fn running() -> Result<Vec<Postmaster>> {
    Ok(seen()
        .into_iter()
        .filter_map(|s| {
            let pm = from_pgdata(s.pgdata.as_deref()?).ok()?;
            (pm.pid == s.pid).then_some(pm)
        })
        .collect())
}

/// The one postmaster running on this machine; refused when there is none or several (a postmaster
/// of a nested pid namespace, a container's, counts: it may be the one meant).
pub fn only() -> Result<Postmaster> {
    let mut all = running()?;
    let nested: Vec<Elsewhere> = seen().iter().filter_map(|s| elsewhere(s.pid)).collect();
    match (all.len(), nested.len()) {
        (1, 0) => Ok(all.remove(0)),
        (0, 1) => Err(another_namespace(&nested[0])),
        (0, 0) => Err(crate::exit::refuse(
            "no running PostgreSQL server found on this machine that this user can see; give \
             --pgdata DIR or --pid POSTMASTER_PID (and run as root or as the cluster's OS user)",
        )),
        _ => Err(crate::exit::refuse(format!(
            "{} PostgreSQL servers are running here; say which with --pgdata: {}",
            all.len() + nested.len(),
            all.iter()
                .map(|p| format!(
                    "{} (pid {}{})",
                    p.pgdata.display(),
                    p.pid,
                    p.port.map(|n| format!(", port {n}")).unwrap_or_default()
                ))
                .chain(nested.iter().map(|e| format!(
                    "{} in another pid namespace (pid {} here; rescue must run inside it)",
                    e.pgdata.display(),
                    e.pid
                )))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A postmaster as /proc shows it to anyone: the parent of a checkpointer. What the current user may
/// read about it (its data directory needs root or the cluster's OS user; its arguments are public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub pid: i32,
    pub uid: u32,
    pub pgdata: Option<PathBuf>,
}

/// Every postmaster running on this machine, whoever runs it.
pub fn seen() -> Vec<Seen> {
    let Ok(all) = proc::all() else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = all
        .iter()
        .filter(|p| super::title::prefix_from_checkpointer(&p.title).is_some())
        .map(|p| p.ppid)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .filter_map(|pid| {
            let uid = proc::uid(pid).ok()?;
            let args = proc::args(pid).unwrap_or_default();
            let pgdata = fs::read_link(format!("/proc/{pid}/cwd"))
                .ok()
                .or_else(|| data_dir_arg(&args));
            Some(Seen { pid, uid, pgdata })
        })
        .collect()
}

/// `-D DIR` / `-DDIR` of the postmaster's arguments, when absolute (a relative one was relative to a
/// directory the postmaster has left).
fn data_dir_arg(args: &[String]) -> Option<PathBuf> {
    let i = args.iter().position(|a| a.starts_with("-D"))?;
    let dir = match args[i].as_str() {
        "-D" => args.get(i + 1).map(PathBuf::from)?,
        a => PathBuf::from(&a[2..]),
    };
    dir.is_absolute().then_some(dir)
}

/// Where the postmaster found postgresql.conf: its -D (or $PGDATA when it was started without one),
/// which is the data directory unless postgresql.conf moved that with data_directory.
pub fn config_dir(pid: i32, pgdata: &Path, args: &[String]) -> PathBuf {
    data_dir_arg(args)
        .or_else(|| {
            let env = fs::read(format!("/proc/{pid}/environ")).ok()?;
            env.split(|&b| b == 0)
                .find_map(|kv| kv.strip_prefix(b"PGDATA="))
                .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()))
                .filter(|p| p.is_absolute())
        })
        .unwrap_or_else(|| pgdata.to_path_buf())
}

/// Whether a connection to `host` and `port` (a socket directory when `socket`; `hostaddr` when given,
/// as libpq connects to it) provably reached postmaster `pid`:
/// - over a unix socket, the socket file pgconn connects to is the very file (device and inode) one of
///   its unix sockets is bound to, seen through the postmaster's own root;
/// - over TCP, it listens, in pgconn's own network namespace, on every address `hostaddr` or `host` names
///   (an IP address, or `localhost`) at that port, where no tunnel or port forward can listen too; and a
///   connection to each of them, opened and closed without a startup packet (the server counts no slot
///   for it, and logs an incomplete startup packet), has its server's end in this namespace, so no NAT
///   rule sent it elsewhere.
///
/// Needs root or the cluster's OS user (the postmaster's descriptors); anything less proves nothing.
pub fn reached_by(
    pid: i32,
    host: Option<&str>,
    hostaddr: Option<IpAddr>,
    socket: bool,
    port: u16,
) -> bool {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    use std::os::unix::fs::MetadataExt;
    let Ok(sockets) = super::sockets::Sockets::read(pid) else {
        return false;
    };
    if socket {
        let Some(dir) = host else { return false };
        let id = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
        let Some(ours) = id(&Path::new(dir).join(format!(".s.PGSQL.{port}"))) else {
            return false;
        };
        return sockets.unix_listeners().any(|path| {
            let theirs = format!("/proc/{pid}/root/{}", path.trim_start_matches('/'));
            id(Path::new(&theirs)) == Some(ours)
        });
    }
    let ns = |p: &str| fs::read_link(format!("/proc/{p}/ns/net")).ok();
    if ns("self").is_none() || ns("self") != ns(&pid.to_string()) {
        return false;
    }
    let addrs: Vec<IpAddr> = match (hostaddr, host) {
        (Some(a), _) => vec![a],
        (None, Some("localhost")) => ("localhost", port)
            .to_socket_addrs()
            .map(|a| a.map(|a| a.ip()).collect())
            .unwrap_or_default(),
        (None, Some(h)) => h.parse::<IpAddr>().map(|a| vec![a]).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    !addrs.is_empty()
        && addrs.iter().all(|a| {
            if !sockets.listens_on(*a, port) {
                return false;
            }
            // The probe stays open while the table is read: closed, its ends would be on their way out.
            let Ok(probe) =
                TcpStream::connect_timeout(&SocketAddr::new(*a, port), Duration::from_secs(2))
            else {
                return false;
            };
            probe
                .local_addr()
                .is_ok_and(|local| super::sockets::server_end_here(port, local.port()))
        })
}

/// The exact `pgconn rescue` command for the server pgconn was refused by, when that server provably
/// runs on this machine ([`reached_by`]): exactly one postmaster here is the one the refused connection
/// reached. With `sudo -u OWNER` in front when this user is neither root nor the cluster's OS user
/// (possible only where the postmaster's descriptors are readable anyway: the hint is then omitted).
pub fn rescue_command(
    host: Option<&str>,
    hostaddr: Option<IpAddr>,
    socket: bool,
    port: u16,
) -> Option<String> {
    let all = seen();
    let matching: Vec<&Seen> = all
        .iter()
        .filter(|s| {
            proc::ns_pids(s.pid).is_ok_and(|n| n.len() == 1)
                && reached_by(s.pid, host, hostaddr, socket, port)
        })
        .collect();
    let [s] = matching.as_slice() else {
        return None;
    };
    let me = nix::unistd::geteuid().as_raw();
    let sudo = if me == 0 || me == s.uid {
        String::new()
    } else {
        match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(s.uid)) {
            Ok(Some(u)) => format!("sudo -u {} ", crate::report::shell_quote(&u.name)),
            _ => "sudo ".into(),
        }
    };
    Some(match &s.pgdata {
        Some(d) => format!(
            "{sudo}pgconn rescue --pgdata {}",
            crate::report::shell_quote(&d.display().to_string())
        ),
        None => format!("{sudo}pgconn rescue --pid {}", s.pid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_file_gives_pid_directory_port_and_socket() {
        let text =
            "4242\n/var/lib/postgresql/15/main\n1764650000\n5433\n/var/run/postgresql\n*\n  \
                    5433001    65538\nready   \n";
        assert_eq!(
            parse_pid_file(text),
            Some(PidFile {
                pid: 4242,
                pgdata: "/var/lib/postgresql/15/main".into(),
                port: Some(5433),
                socket_dir: Some("/var/run/postgresql".into()),
            })
        );
        let args: Vec<String> = ["postgres", "-D", "/d", "-p", "5433"]
            .map(String::from)
            .to_vec();
        assert_eq!(data_dir_arg(&args), Some(PathBuf::from("/d")));
        let args: Vec<String> = ["postgres", "-D/d2", "-p5434"].map(String::from).to_vec();
        assert_eq!(data_dir_arg(&args), Some(PathBuf::from("/d2")));
        let no_socket = "7\n/data/with space\n1\n5432\n\n";
        let pf = parse_pid_file(no_socket).unwrap();
        assert_eq!(pf.pgdata, PathBuf::from("/data/with space"));
        assert_eq!(pf.socket_dir, None);
        assert_eq!(parse_pid_file("not a pid\n"), None);
    }
}
