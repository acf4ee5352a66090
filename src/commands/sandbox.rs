//! `pgconn sandbox`: a throwaway local server with a simulated connection leak, either kept running until
//! Ctrl-C or used for one `pgconn ARGS...` run.

use std::io::Write;
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cli::SandboxArgs;
use crate::sandbox::{Cluster, ClusterOptions, Workload};
use crate::ui::shell_quote;

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

pub fn run(args: &SandboxArgs) -> Result<ExitCode> {
    if args.max_connections <= SUPERUSER_RESERVED {
        return Err(crate::refuse(format!(
            "--max-connections must be more than {SUPERUSER_RESERVED} (the slots reserved for superusers)"
        )));
    }
    let room = (args.max_connections - SUPERUSER_RESERVED) as usize;
    let wanted = args.leak + args.active + args.idle_in_transaction;
    if wanted > room {
        return Err(crate::refuse(format!(
            "--leak {} + --active {} + --idle-in-transaction {} = {wanted} sessions do not fit: role {ROLE} \
             can use {room} of --max-connections {} ({SUPERUSER_RESERVED} are reserved for superusers)",
            args.leak,
            args.active,
            args.idle_in_transaction,
            args.max_connections
        )));
    }

    let (events, received) = mpsc::channel::<Event>();
    let on_signal = events.clone();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .context("installing the signal handlers")?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if on_signal.send(Event::Signal).is_err() {
                break;
            }
        }
    });
    let interrupted = || matches!(received.try_recv(), Ok(Event::Signal));

    eprintln!("pgconn sandbox: starting a throwaway PostgreSQL server ...");
    // Declared before the workload so that it is dropped after it.
    let cluster = Cluster::start(&ClusterOptions {
        max_connections: args.max_connections,
        superuser_reserved_connections: Some(SUPERUSER_RESERVED),
        ..ClusterOptions::default()
    })?;
    let mut workload = Workload::new();
    if interrupted() {
        return Ok(removed_after_interrupt(&cluster));
    }
    cluster.psql(&format!("CREATE ROLE {ROLE} LOGIN"))?;
    cluster.psql(&format!("CREATE DATABASE {DATABASE} OWNER {ROLE}"))?;
    eprintln!(
        "pgconn sandbox: opening {} sessions as {ROLE} to {DATABASE} ...",
        wanted
    );
    workload.idle(&cluster, args.leak, ROLE, DATABASE, "leaky-worker")?;
    workload.active(&cluster, args.active, ROLE, DATABASE, "report-job", 3600)?;
    workload.idle_in_transaction(
        &cluster,
        args.idle_in_transaction,
        ROLE,
        DATABASE,
        "billing-api",
    )?;
    if interrupted() {
        drop(workload);
        return Ok(removed_after_interrupt(&cluster));
    }

    let env = [
        ("PGHOST", cluster.socket_dir().display().to_string()),
        ("PGPORT", cluster.port().to_string()),
        ("PGUSER", cluster.superuser().to_string()),
        ("PGDATABASE", DATABASE.to_string()),
    ];

    if !args.args.is_empty() {
        let exe = std::env::current_exe().context("finding the pgconn executable")?;
        let mut cmd = Command::new(exe);
        cmd.args(&args.args);
        for key in REMOVED_ENV {
            cmd.env_remove(key);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd.spawn().context("running pgconn against the sandbox")?;
        let pid = child.id();
        let on_exit = events.clone();
        std::thread::spawn(move || {
            let _ = on_exit.send(Event::Exited(child.wait()));
        });
        let status = wait_for_child(pid, &received)?;
        drop(workload);
        drop(cluster);
        return Ok(exit_code_of(status));
    }

    let mut out = std::io::stdout().lock();
    let mut lines = String::from("unset PGSERVICE PGHOSTADDR\n");
    for (key, value) in &env {
        lines.push_str(&format!("export {key}={}\n", shell_quote(value)));
    }
    // stdout may be closed already; the sandbox still runs until Ctrl-C.
    let _ = out.write_all(lines.as_bytes()).and_then(|_| out.flush());
    drop(out);

    let version = cluster.version_num();
    eprintln!(
        "sandbox running: PostgreSQL {}.{} with max_connections {} in {}\n  \
         {} of leaky-worker, {} of report-job running a long query and {} of billing-api idle in \
         transaction (user {ROLE}, database {DATABASE})\n\
         Paste the export lines above into another shell, then try `pgconn status` or \
         `pgconn sessions --app leaky-worker`.\n\
         Press Ctrl-C to stop and remove it.",
        version / 10000,
        version % 10000,
        args.max_connections,
        cluster.root_dir().display(),
        count(args.leak, "idle session"),
        count(args.active, "session"),
        count(args.idle_in_transaction, "session"),
    );
    loop {
        match received.recv() {
            Ok(Event::Signal) | Err(_) => break,
            Ok(Event::Exited(_)) => {}
        }
    }
    eprintln!(
        "pgconn sandbox: stopping the server and removing {}",
        cluster.root_dir().display()
    );
    drop(workload);
    drop(cluster);
    Ok(ExitCode::SUCCESS)
}

fn removed_after_interrupt(cluster: &Cluster) -> ExitCode {
    eprintln!(
        "pgconn sandbox: interrupted; removing {}",
        cluster.root_dir().display()
    );
    ExitCode::from(130)
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

fn exit_code_of(status: ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code.clamp(0, 255) as u8),
        (None, Some(signal)) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
        (None, None) => ExitCode::FAILURE,
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
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
