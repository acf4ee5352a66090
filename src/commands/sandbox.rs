//! `pgconn sandbox`: a throwaway local server with a simulated connection leak, either kept running until
//! Ctrl-C or used for one `pgconn ARGS...` run.

use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::shell_quote;
use crate::sandbox::{Cluster, ClusterOptions, Workload};

/// Slots PostgreSQL keeps for superusers (its default, set explicitly so the arithmetic below holds).
const SUPERUSER_RESERVED: u32 = 3;
const ROLE: &str = "app";
const DATABASE: &str = "appdb";

/// Variables that could send the child somewhere other than the sandbox or change how it connects.
const REMOVED_ENV: [&str; 8] = [
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGHOSTADDR",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSSLMODE",
    "PGOPTIONS",
    "PGAPPNAME",
];

enum Event {
    /// SIGINT, SIGTERM or SIGHUP
    Signal,
    Exited(std::io::Result<ExitStatus>),
}

/// A running sandbox: the server, its simulated sessions, and the signals that end it.
pub struct Sandbox {
    /// The simulated sessions, held open for as long as the sandbox runs; declared before the cluster so
    /// that they end first.
    _workload: Workload,
    /// With --fill: the sessions opened to fill it (leaky-worker, runaway-admin) and the server's last
    /// refusal.
    filled: Option<(usize, usize, String)>,
    cluster: Cluster,
    events: mpsc::Sender<Event>,
    received: mpsc::Receiver<Event>,
}

/// How a sandbox start ended.
pub enum Started {
    Running(Box<Sandbox>),
    /// A stop signal arrived while it was starting: it has been removed (the message says where it was).
    Interrupted(String),
}

/// What `sandbox` is asked: the simulated workload, the server's size, and the pgconn command to run
/// against it (none: print the exports and wait).
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    /// Idle sessions of application `leaky-worker`.
    pub leak: usize,
    /// Sessions running a long query.
    pub active: usize,
    /// Sessions left idle in transaction.
    pub idle_in_transaction: usize,
    pub max_connections: u32,
    /// Then fill the server completely (an outage rehearsal).
    pub fill: bool,
    /// `pgconn ARGS...` to run against the sandbox.
    pub args: Vec<String>,
}

impl Default for SandboxRequest {
    /// The command line's.
    fn default() -> Self {
        SandboxRequest {
            leak: 40,
            active: 2,
            idle_in_transaction: 2,
            max_connections: 100,
            fill: false,
            args: Vec::new(),
        }
    }
}

/// Refuse sizes that cannot work: the sessions must fit into the slots the role may use.
pub fn check(args: &SandboxRequest) -> Result<()> {
    if args.max_connections <= SUPERUSER_RESERVED {
        return Err(crate::exit::refuse(format!(
            "--max-connections must be more than {SUPERUSER_RESERVED} (the slots reserved for superusers)"
        )));
    }
    let room = (args.max_connections - SUPERUSER_RESERVED) as usize;
    let wanted = args.leak + args.active + args.idle_in_transaction;
    if wanted > room {
        return Err(crate::exit::refuse(format!(
            "--leak {} + --active {} + --idle-in-transaction {} = {wanted} sessions do not fit: role {ROLE} \
             can use {room} of --max-connections {} ({SUPERUSER_RESERVED} are reserved for superusers)",
            args.leak,
            args.active,
            args.idle_in_transaction,
            args.max_connections
        )));
    }
    Ok(())
}

/// Start the server and open the simulated sessions; `say` hears what is being done.
pub fn start(args: &SandboxRequest, say: &dyn Fn(&str)) -> Result<Started> {
    check(args)?;
    let wanted = args.leak + args.active + args.idle_in_transaction;
    let (events, received) = mpsc::channel::<Event>();
    let on_signal = events.clone();
    // Its own handlers, not Interrupt's: a second signal must not end pgconn before the cleanup.
    let mut signals = signal_hook::iterator::Signals::new(crate::interrupt::SIGNALS)
        .context("installing the signal handlers")?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if on_signal.send(Event::Signal).is_err() {
                break;
            }
        }
    });
    let interrupted = || matches!(received.try_recv(), Ok(Event::Signal));

    say("pgconn sandbox: starting a throwaway PostgreSQL server ...");
    let cluster = Cluster::start(&ClusterOptions {
        max_connections: args.max_connections,
        superuser_reserved_connections: Some(SUPERUSER_RESERVED),
        ..ClusterOptions::default()
    })?;
    if interrupted() {
        return Ok(removed_after_interrupt(cluster, None));
    }
    cluster.psql(&format!("CREATE ROLE {ROLE} LOGIN"))?;
    cluster.psql(&format!("CREATE DATABASE {DATABASE} OWNER {ROLE}"))?;
    say(&format!(
        "pgconn sandbox: opening {wanted} sessions as {ROLE} to {DATABASE} ..."
    ));
    let mut workload = Workload::new();
    workload.idle(&cluster, args.leak, ROLE, DATABASE, "leaky-worker")?;
    workload.active(&cluster, args.active, ROLE, DATABASE, "report-job", 3600)?;
    workload.idle_in_transaction(
        &cluster,
        args.idle_in_transaction,
        ROLE,
        DATABASE,
        "billing-api",
    )?;
    let filled = if args.fill {
        say("pgconn sandbox: filling every slot: leaky-worker sessions until ordinary roles are refused, \
             then runaway-admin sessions as a superuser until superusers are refused too ...");
        let (ordinary, _) = workload.fill(&cluster, ROLE, DATABASE, "leaky-worker")?;
        let (admin, refusal) =
            workload.fill(&cluster, cluster.superuser(), DATABASE, "runaway-admin")?;
        Some((ordinary, admin, refusal))
    } else {
        None
    };
    if interrupted() {
        return Ok(removed_after_interrupt(cluster, Some(workload)));
    }
    Ok(Started::Running(Box::new(Sandbox {
        _workload: workload,
        filled,
        cluster,
        events,
        received,
    })))
}

impl Sandbox {
    /// The variables that point libpq (and pgconn) at the sandbox.
    pub fn env(&self) -> Vec<(String, String)> {
        self.cluster.env_for(DATABASE)
    }

    /// The lines to paste into another shell: `unset ...` and an `export` per variable.
    pub fn exports(&self) -> String {
        let mut lines = String::from("unset PGSERVICE PGHOSTADDR\n");
        for (key, value) in &self.env() {
            lines.push_str(&format!("export {key}={}\n", shell_quote(value)));
        }
        lines
    }

    /// What is running, and how to use and stop it.
    pub fn banner(&self, args: &SandboxRequest) -> String {
        let version = self.cluster.version_num();
        format!(
            "sandbox running: PostgreSQL {}.{} with max_connections {} in {}\n  \
             {} of leaky-worker, {} of report-job running a long query and {} of billing-api idle in \
             transaction (user {ROLE}, database {DATABASE})\n\
             Paste the export lines above into another shell, then try `pgconn status` or \
             `pgconn sessions --app leaky-worker`.\n\
             Press Ctrl-C to stop and remove it.",
            version / 10000,
            version % 10000,
            args.max_connections,
            self.cluster.root_dir().display(),
            count(args.leak, "idle session"),
            count(args.active, "session"),
            count(args.idle_in_transaction, "session"),
        ) + &match &self.filled {
            None => String::new(),
            Some((ordinary, admin, refusal)) => format!(
                "\n  filled: {} more of leaky-worker, then {} of runaway-admin as superuser {}; a \
                 new connection now gets \"{refusal}\" (pgconn gets in through a WAL sender slot, and \
                 `pgconn rescue` frees slots through the operating system)",
                count(*ordinary, "idle session"),
                count(*admin, "idle session"),
                self.cluster.superuser(),
            ),
        }
    }

    /// Run `pgconn ARGS...` against the sandbox (PG* variables set, the ones that could send it elsewhere
    /// removed), then remove the sandbox. Returns the child's exit code: its own, or 128 + the signal
    /// that ended it.
    pub fn run_child(self, args: &[String]) -> Result<u8> {
        let exe = std::env::current_exe().context("finding the pgconn executable")?;
        let mut cmd = Command::new(exe);
        cmd.args(args);
        for key in REMOVED_ENV {
            cmd.env_remove(key);
        }
        cmd.envs(self.env());
        let mut child = cmd.spawn().context("running pgconn against the sandbox")?;
        let pid = child.id();
        let on_exit = self.events.clone();
        std::thread::spawn(move || {
            let _ = on_exit.send(Event::Exited(child.wait()));
        });
        let status = wait_for_child(pid, &self.received)?;
        drop(self);
        Ok(exit_code_of(status))
    }

    /// Wait for Ctrl-C (SIGINT, SIGTERM or SIGHUP); `say` hears that the sandbox is being removed (it
    /// is, when this returns).
    pub fn run_until_signal(self, say: &dyn Fn(&str)) {
        loop {
            match self.received.recv() {
                Ok(Event::Signal) | Err(_) => break,
                Ok(Event::Exited(_)) => {}
            }
        }
        say(&format!(
            "pgconn sandbox: stopping the server and removing {}",
            self.cluster.root_dir().display()
        ));
    }
}

fn removed_after_interrupt(cluster: Cluster, workload: Option<Workload>) -> Started {
    let message = format!(
        "pgconn sandbox: interrupted; removing {}",
        cluster.root_dir().display()
    );
    drop(workload);
    drop(cluster);
    Started::Interrupted(message)
}

/// Wait for the child. A terminal's Ctrl-C reaches it as well; if it has not ended a while after we got a
/// signal, ask it to (SIGTERM), and finally kill it.
fn wait_for_child(pid: u32, events: &mpsc::Receiver<Event>) -> Result<ExitStatus> {
    use nix::sys::signal::{kill, Signal};
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    let mut signalled: Option<Instant> = None;
    let mut sent_term = false;
    loop {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Exited(status)) => return status.context("waiting for pgconn"),
            Ok(Event::Signal) => {
                signalled.get_or_insert_with(Instant::now);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("lost track of the pgconn child process")
            }
        }
        if let Some(at) = signalled {
            let waited = at.elapsed();
            if waited > Duration::from_secs(2) && !sent_term {
                let _ = kill(pid, Signal::SIGTERM);
                sent_term = true;
            } else if waited > Duration::from_secs(10) {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
    }
}

fn exit_code_of(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code.clamp(0, 255) as u8,
        (None, Some(signal)) => (128 + signal).clamp(0, 255) as u8,
        (None, None) => 1,
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/tmp/pgconn-Ab1"), "/tmp/pgconn-Ab1");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "\"it's\"");
        assert_eq!(shell_quote(""), "''");
    }
}
