//! The leak simulation: client sessions held open in a chosen state, so that pg_stat_activity looks like
//! a real connection leak.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};

use super::{Cluster, ADMIN_APP, SUPERUSER};
use crate::wire::{Address, Connection, PasswordMissing};

/// One simulated client session: its connection, and whether it is running a query.
struct Session {
    connection: Connection,
    active: bool,
}

/// The state a new session is left in.
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

    /// Idle sessions (`SELECT 1`), opened one at a time until the server refuses one with SQLSTATE 53300
    /// (ordinary roles: "remaining connection slots are reserved"; superusers: "sorry, too many clients
    /// already"). Returns how many were opened and the server's words of the refusal.
    pub fn fill(
        &mut self,
        c: &Cluster,
        user: &str,
        db: &str,
        app: &str,
    ) -> Result<(usize, String)> {
        let address = address(c, self.tcp)?;
        let mut opened = 0usize;
        loop {
            match open_session(&address, user, db, app, Kind::Idle) {
                Ok(session) => {
                    self.sessions.push(session);
                    opened += 1;
                }
                Err(e) => {
                    if let Some(refused) = e
                        .downcast_ref::<crate::wire::ServerError>()
                        .filter(|s| s.code == "53300")
                    {
                        return Ok((opened, refused.message.clone()));
                    }
                    return Err(e.context(format!(
                        "filling the server with sessions of {app} as {user} ({opened} opened)"
                    )));
                }
            }
            if opened > 100_000 {
                bail!("the server took 100,000 sessions of {app} without refusing one");
            }
        }
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
        let pids: Vec<i32> = self.sessions[first..]
            .iter()
            .map(|s| s.connection.pid())
            .collect();
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
        self.sessions.iter().map(|s| s.connection.pid()).collect()
    }

    /// Close every session now (what Drop does).
    pub fn close(&mut self) {
        let mut sessions = std::mem::take(&mut self.sessions);
        for s in sessions.iter().filter(|s| s.active) {
            let _ = s.connection.cancel();
        }
        for s in &mut sessions {
            let _ = s.connection.close();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for s in &mut sessions {
            s.connection.wait_closed(deadline);
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
        let address = address(c, self.tcp)?;
        let open_one = |address: &Address| open_session(address, user, db, app, kind);
        // A few workers are enough: the postmaster forks backends one at a time.
        let workers = n.div_ceil(16).clamp(1, 4);
        let results: Vec<(Vec<Session>, Option<anyhow::Error>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let count = n / workers + usize::from(w < n % workers);
                    let address = address.clone();
                    let open_one = &open_one;
                    scope.spawn(move || {
                        let mut opened = Vec::with_capacity(count);
                        for _ in 0..count {
                            match open_one(&address) {
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

/// Where simulated sessions connect: the cluster's unix socket, or 127.0.0.1 when `tcp` is set.
fn address(c: &Cluster, tcp: bool) -> Result<Address> {
    if tcp {
        let port = c
            .tcp_port()
            .ok_or_else(|| anyhow!("this sandbox cluster does not listen on TCP"))?;
        Ok(Address::Tcp(SocketAddr::from(([127, 0, 0, 1], port))))
    } else {
        Ok(Address::unix_socket(c.socket_dir(), c.port()))
    }
}

/// One simulated session, left in the state `kind` says.
fn open_session(address: &Address, user: &str, db: &str, app: &str, kind: Kind) -> Result<Session> {
    let mut connection = connect(address, user, db, app)?;
    let mut active = false;
    match kind {
        Kind::NeverQueried => {}
        Kind::Idle => connection.simple_query("SELECT 1")?,
        Kind::IdleInTransaction => {
            connection.simple_query("BEGIN")?;
            connection.simple_query("SELECT 1")?;
        }
        Kind::Active(secs) => {
            connection.send_simple_query(&format!("SELECT pg_sleep({secs})"))?;
            active = true;
        }
    }
    Ok(Session { connection, active })
}

/// Connect one simulated session (trust authentication only).
fn connect(address: &Address, user: &str, db: &str, app: &str) -> Result<Connection> {
    let params = [("user", user), ("database", db), ("application_name", app)];
    Connection::connect(address, &params).map_err(|e| match e.downcast_ref::<PasswordMissing>() {
        Some(refused) => anyhow!("{refused}; simulated sessions need trust authentication"),
        None => e,
    })
}
