//! The leak simulation: client sessions held open in a chosen state, so that pg_stat_activity looks like
//! a real connection leak.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use super::{Cluster, ADMIN_APP, SUPERUSER};

/// An error the server sent to a simulated session (ErrorResponse). Reach it with
/// `err.downcast_ref::<ServerError>()` to look at the SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub severity: String,
    /// SQLSTATE, e.g. "53300"
    pub code: String,
    pub message: String,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

impl std::error::Error for ServerError {}

#[derive(Debug, Clone)]
enum Target {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Target {
    fn open(&self) -> io::Result<Stream> {
        let stream = match self {
            Target::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Target::Tcp(addr) => {
                let s = TcpStream::connect_timeout(addr, Duration::from_secs(10))?;
                s.set_nodelay(true)?;
                Stream::Tcp(s)
            }
        };
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        match &stream {
            Stream::Unix(s) => s.set_write_timeout(Some(IO_TIMEOUT))?,
            Stream::Tcp(s) => s.set_write_timeout(Some(IO_TIMEOUT))?,
        }
        Ok(stream)
    }
}

const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One simulated client session, speaking protocol 3.0 over a plain socket (trust authentication only).
struct Session {
    conn: BufReader<Stream>,
    target: Target,
    pid: i32,
    secret: Vec<u8>,
    active: bool,
}

fn message(kind: Option<u8>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.extend(kind);
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn parse_error(body: &[u8]) -> ServerError {
    let mut err = ServerError {
        severity: String::new(),
        code: String::new(),
        message: String::new(),
    };
    for field in body.split(|b| *b == 0) {
        let Some((&kind, value)) = field.split_first() else {
            continue;
        };
        let value = String::from_utf8_lossy(value).into_owned();
        match kind {
            b'S' => err.severity = value,
            b'C' => err.code = value,
            b'M' => err.message = value,
            _ => {}
        }
    }
    err
}

impl Session {
    fn connect(target: &Target, user: &str, db: &str, app: &str) -> Result<Session> {
        let stream = target
            .open()
            .with_context(|| format!("connecting to {target:?}"))?;
        let mut session = Session {
            conn: BufReader::new(stream),
            target: target.clone(),
            pid: 0,
            secret: Vec::new(),
            active: false,
        };
        let mut body = 196608i32.to_be_bytes().to_vec(); // protocol 3.0
        for (key, value) in [("user", user), ("database", db), ("application_name", app)] {
            body.extend_from_slice(key.as_bytes());
            body.push(0);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        session.send(&message(None, &body))?;
        loop {
            let (kind, body) = session.read_message()?;
            match kind {
                b'R' => {
                    let code = body
                        .get(..4)
                        .map(|b| i32::from_be_bytes(b.try_into().unwrap()));
                    if code != Some(0) {
                        bail!(
                            "the server asks {user} for a password (authentication request {code:?}); \
                             simulated sessions need trust authentication"
                        );
                    }
                }
                b'K' if body.len() >= 8 => {
                    session.pid = i32::from_be_bytes(body[..4].try_into().unwrap());
                    session.secret = body[4..].to_vec();
                }
                b'E' => return Err(parse_error(&body).into()),
                b'Z' => return Ok(session),
                _ => {}
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.conn
            .get_mut()
            .write_all(bytes)
            .context("writing to the server")
    }

    fn read_message(&mut self) -> Result<(u8, Vec<u8>)> {
        let mut header = [0u8; 5];
        self.conn
            .read_exact(&mut header)
            .context("reading from the server")?;
        let len = i32::from_be_bytes(header[1..].try_into().unwrap());
        if !(4..=1 << 30).contains(&len) {
            bail!("malformed message from the server");
        }
        let mut body = vec![0u8; len as usize - 4];
        self.conn
            .read_exact(&mut body)
            .context("reading from the server")?;
        Ok((header[0], body))
    }

    fn send_query(&mut self, sql: &str) -> Result<()> {
        let mut body = sql.as_bytes().to_vec();
        body.push(0);
        self.send(&message(Some(b'Q'), &body))
    }

    /// Run a simple query and wait for ReadyForQuery.
    fn query(&mut self, sql: &str) -> Result<()> {
        self.send_query(sql)?;
        let mut error = None;
        loop {
            let (kind, body) = self.read_message()?;
            match kind {
                b'E' => error = error.or(Some(parse_error(&body))),
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(e) => Err(anyhow::Error::new(e).context(format!("running {sql:?}"))),
            None => Ok(()),
        }
    }

    /// Ask the server to cancel the running query (CancelRequest on a new connection).
    fn cancel(&self) {
        if let Ok(mut stream) = self.target.open() {
            let mut body = 80877102i32.to_be_bytes().to_vec();
            body.extend_from_slice(&self.pid.to_be_bytes());
            body.extend_from_slice(&self.secret);
            let _ = stream.write_all(&message(None, &body));
        }
    }

    fn terminate(&mut self) {
        let _ = self.conn.get_mut().write_all(&message(Some(b'X'), &[]));
    }

    /// Wait until the server has closed the connection (the backend has exited).
    fn wait_closed(&mut self, deadline: Instant) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.conn.get_ref().set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.conn.fill_buf() {
                Ok([]) | Err(_) => return,
                Ok(buf) => {
                    let n = buf.len();
                    self.conn.consume(n);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    NeverQueried,
    Idle,
    IdleInTransaction,
    Active(u32),
}

/// Simulated client sessions held open against a [`Cluster`]. Dropping it closes them all (cancelling the
/// running queries first) and returns once the server has ended their backends.
#[derive(Default)]
pub struct Workload {
    sessions: Vec<Session>,
    tcp: bool,
}

impl fmt::Debug for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workload")
            .field("sessions", &self.sessions.len())
            .field("tcp", &self.tcp)
            .finish()
    }
}

impl Workload {
    pub fn new() -> Self {
        Self::default()
    }

    /// Open the following sessions through 127.0.0.1 instead of the unix socket (the cluster needs `tcp`).
    pub fn via_tcp(&mut self, tcp: bool) -> &mut Self {
        self.tcp = tcp;
        self
    }

    /// `n` sessions that ran `SELECT 1` and now sit idle.
    pub fn idle(&mut self, c: &Cluster, n: usize, user: &str, db: &str, app: &str) -> Result<()> {
        self.open(c, n, user, db, app, Kind::Idle)
    }

    /// `n` sessions that connected and never sent a query (state idle, empty query).
    pub fn idle_never_queried(
        &mut self,
        c: &Cluster,
        n: usize,
        user: &str,
        db: &str,
        app: &str,
    ) -> Result<()> {
        self.open(c, n, user, db, app, Kind::NeverQueried)
    }

    /// `n` sessions that ran `BEGIN` and `SELECT 1` and hold the transaction open.
    pub fn idle_in_transaction(
        &mut self,
        c: &Cluster,
        n: usize,
        user: &str,
        db: &str,
        app: &str,
    ) -> Result<()> {
        self.open(c, n, user, db, app, Kind::IdleInTransaction)
    }

    /// `n` sessions running `SELECT pg_sleep(secs)`; returns once all of them show as active.
    pub fn active(
        &mut self,
        c: &Cluster,
        n: usize,
        user: &str,
        db: &str,
        app: &str,
        secs: u32,
    ) -> Result<()> {
        let first = self.sessions.len();
        self.open(c, n, user, db, app, Kind::Active(secs))?;
        let pids: Vec<i32> = self.sessions[first..].iter().map(|s| s.pid).collect();
        if pids.is_empty() {
            return Ok(());
        }
        let mut client = c.connect(SUPERUSER, "postgres", ADMIN_APP)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let row = client.query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1) AND state = 'active'",
                &[&pids],
            )?;
            let active: i64 = row.get(0);
            if active as usize == pids.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "only {active} of {} sessions of {app} became active within 10 s",
                    pids.len()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// How many sessions it holds.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Backend pids of the sessions it holds.
    pub fn pids(&self) -> Vec<i32> {
        self.sessions.iter().map(|s| s.pid).collect()
    }

    /// Close every session now (what Drop does).
    pub fn close(&mut self) {
        let mut sessions = std::mem::take(&mut self.sessions);
        for s in sessions.iter().filter(|s| s.active) {
            s.cancel();
        }
        for s in &mut sessions {
            s.terminate();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for s in &mut sessions {
            s.wait_closed(deadline);
        }
    }

    fn open(
        &mut self,
        c: &Cluster,
        n: usize,
        user: &str,
        db: &str,
        app: &str,
        kind: Kind,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let target = target(c, self.tcp)?;
        let open_one = |target: &Target| -> Result<Session> {
            let mut s = Session::connect(target, user, db, app)?;
            match kind {
                Kind::NeverQueried => {}
                Kind::Idle => s.query("SELECT 1")?,
                Kind::IdleInTransaction => {
                    s.query("BEGIN")?;
                    s.query("SELECT 1")?;
                }
                Kind::Active(secs) => {
                    s.send_query(&format!("SELECT pg_sleep({secs})"))?;
                    s.active = true;
                }
            }
            Ok(s)
        };
        // A few workers are enough: the postmaster forks backends one at a time.
        let workers = n.div_ceil(16).clamp(1, 4);
        let results: Vec<(Vec<Session>, Option<anyhow::Error>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let count = n / workers + usize::from(w < n % workers);
                    let target = target.clone();
                    let open_one = &open_one;
                    scope.spawn(move || {
                        let mut opened = Vec::with_capacity(count);
                        for _ in 0..count {
                            match open_one(&target) {
                                Ok(s) => opened.push(s),
                                Err(e) => return (opened, Some(e)),
                            }
                        }
                        (opened, None)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (Vec::new(), Some(anyhow!("worker panicked"))))
                })
                .collect()
        });
        let mut first_error = None;
        for (opened, error) in results {
            self.sessions.extend(opened);
            if first_error.is_none() {
                first_error = error;
            }
        }
        match first_error {
            None => Ok(()),
            Some(e) => Err(e.context(format!(
                "opening {n} sessions of {app} as {user} to {db} (the workload now holds {})",
                self.sessions.len()
            ))),
        }
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        self.close();
    }
}

/// Where simulated sessions connect: the unix socket, or 127.0.0.1 when `tcp` is set.
fn target(c: &Cluster, tcp: bool) -> Result<Target> {
    if tcp {
        let port = c
            .tcp_port()
            .ok_or_else(|| anyhow!("this sandbox cluster does not listen on TCP"))?;
        Ok(Target::Tcp(SocketAddr::from(([127, 0, 0, 1], port))))
    } else {
        Ok(Target::Unix(
            c.socket_dir().join(format!(".s.PGSQL.{}", c.port())),
        ))
    }
}
