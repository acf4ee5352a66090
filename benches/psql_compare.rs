//! pgconn against the psql one-liners it replaces, and against the libpq floor, at 1,000 and 5,000 idle
//! sessions.
//!
//! Run with `cargo bench --bench psql_compare` (builds the release binary). It starts a throwaway cluster
//! (unix socket, and TCP on 127.0.0.1), opens idle sessions over the wire protocol, and runs each command as
//! a separate process, alternating the two programs compared, measuring wall time and peak resident memory
//! (wait4's rusage). Medians go to the terminal and to BENCHMARKS.md at the top of the repository.
//!
//! Three comparisons:
//! - pgconn against psql running equivalent SQL (status, sessions, kill-idle), over the unix socket;
//! - pgconn against the libpq floor (`benches/floor.c`, compiled at start with `cc` and libpq's headers
//!   from libpq-dev), which connects and runs the main statement pgconn sends (captured with `--show-sql`)
//!   in one PQexec, over the unix socket;
//! - the same through a latency proxy on 127.0.0.1 that delays every chunk by a one-way latency, to show
//!   what each round trip costs on a slow network;
//! - many targets through that proxy: `status --targets` of 50 targets against one (run before the idle
//!   sessions are opened, so that it measures scheduling, not snapshot size), with the CPU of pgconn, of
//!   the server (/proc) and of the proxy (this process's own threads), next to the libpq floor given the
//!   same 50 targets (a thread per target, all at once), and `pgconn exporter`: `/metrics`
//!   of the 50 targets against one `/probe`, `/probe` against `status --format prometheus` as a process
//!   at 1,000 sessions, and 1,000 `/probe` requests 10 at once while the server is watched for the
//!   exporter's backends.
//!
//! Also `pgconn --version` against `psql --version` (what starting each costs), and the Debian package's
//! size and installed size when `cargo deb` has built `target/debian/pgconn_*.deb` (else the report says
//! how to include it).
//!
//! Without a C compiler or libpq's header the floor comparisons are skipped with a message saying why.
//!
//! Environment: PGCONN_BENCH_RUNS (timed runs per command and size, default 31; e.g. 5 for a quick run),
//! PGCONN_BENCH_KILL_RUNS (default 7), PGCONN_BENCH_LATENCY_MS (the proxy's one-way latency, default 20),
//! PGCONN_BENCH_PSQL (the psql to compare with), PGCONN_BENCH_CC (the C compiler, default `cc`),
//! PGCONN_BENCH_OUT (where to write the report, default BENCHMARKS.md; `-` for none), PGCONN_PGBIN (server
//! binaries).
//!
//! A partial run, to measure one change on a busy machine: PGCONN_BENCH_ONLY (comma-separated names of
//! what to run: the commands `status`, `sessions`, `check`, `kill-idle`, and the parts `fleet` (many
//! targets and `/metrics`), `exporter` (`/probe` and its load), `route` (the emergency route),
//! `blocked_by`; e.g. `PGCONN_BENCH_ONLY=status,sessions`: their psql, libpq-floor and bare-view
//! comparisons only) and PGCONN_BENCH_SIZES (the idle sessions to measure at, comma-separated, at most
//! 5,000; default 1000,5000). A partial run prints each comparison as it goes and writes no report
//! (PGCONN_BENCH_OUT must then be unset or `-`), so BENCHMARKS.md stays the full run's.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pgconn::sandbox::{Cluster, ClusterOptions, Workload};

const PGCONN: &str = env!("CARGO_BIN_EXE_pgconn");
const SIZES: [usize; 2] = [1_000, 5_000];

/// What a run measures: everything (the report's run), or the parts PGCONN_BENCH_ONLY names at the sizes
/// PGCONN_BENCH_SIZES lists.
struct Selection {
    only: Option<Vec<String>>,
    sizes: Vec<usize>,
}

impl Selection {
    const NAMES: [&'static str; 8] = [
        "status",
        "sessions",
        "check",
        "kill-idle",
        "fleet",
        "exporter",
        "route",
        "blocked_by",
    ];

    fn from_env() -> Result<Selection> {
        let list = |key: &str| -> Option<Vec<String>> {
            std::env::var(key)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.split(',').map(|x| x.trim().to_string()).collect())
        };
        let only = list("PGCONN_BENCH_ONLY");
        for name in only.iter().flatten() {
            if !Self::NAMES.contains(&name.as_str()) {
                bail!(
                    "PGCONN_BENCH_ONLY: unknown name {name:?} (known: {})",
                    Self::NAMES.join(", ")
                );
            }
        }
        let sizes = match list("PGCONN_BENCH_SIZES") {
            None => SIZES.to_vec(),
            Some(v) => {
                let mut sizes = v
                    .iter()
                    .map(|x| {
                        x.parse::<usize>()
                            .ok()
                            .filter(|n| (1..=SIZES[1]).contains(n))
                            .with_context(|| {
                                format!("PGCONN_BENCH_SIZES: {x:?} is not a number of sessions from 1 to {}", SIZES[1])
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                sizes.sort_unstable();
                sizes.dedup();
                sizes
            }
        };
        Ok(Selection { only, sizes })
    }

    fn partial(&self) -> bool {
        self.only.is_some() || self.sizes != SIZES
    }

    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x == name))
    }
}
/// Role and application of the simulated sessions (an ordinary role: kill-idle leaves superusers alone).
const ROLE: &str = "bench_app";
const APP: &str = "bench-idle";

/// What `pgconn status` reports, as one grouped aggregate in psql.
const PSQL_STATUS: &str = "\
SELECT current_setting('max_connections')::int AS max_connections,
       a.datname, a.usename, a.application_name,
       count(*) AS sessions,
       count(*) FILTER (WHERE a.state = 'active') AS active,
       count(*) FILTER (WHERE a.state = 'idle') AS idle,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%') AS idle_in_transaction,
       max(now() - a.state_change) FILTER (WHERE a.state = 'idle') AS oldest_idle,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY now() - a.state_change)
         FILTER (WHERE a.state = 'idle') AS median_idle,
       max(now() - a.xact_start) AS oldest_transaction
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
 GROUP BY a.datname, a.usename, a.application_name
 ORDER BY sessions DESC";

/// The columns of `pgconn sessions`, longest in their state first.
const PSQL_SESSIONS: &str = "\
SELECT a.pid, a.datname, a.usename, a.application_name,
       coalesce(host(a.client_addr), 'local') AS client, a.client_port, a.state,
       a.backend_start,
       extract(epoch FROM now() - a.backend_start) AS connected_seconds,
       extract(epoch FROM now() - a.state_change) AS state_seconds,
       extract(epoch FROM now() - a.xact_start) AS transaction_seconds,
       extract(epoch FROM now() - a.query_start) AS query_seconds,
       a.wait_event_type, a.wait_event, age(a.backend_xmin) AS xmin_age,
       r.rolsuper AS superuser, a.query
  FROM pg_stat_activity a
  LEFT JOIN pg_roles r ON r.oid = a.usesysid
 WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
 ORDER BY a.state_change, a.pid";

/// The one statement `kill-idle --older-than 0s` replaces.
const PSQL_KILL: &str = "\
SELECT pg_terminate_backend(pid)
  FROM pg_stat_activity
 WHERE state = 'idle' AND backend_type = 'client backend'
   AND state_change < now() - interval '0 seconds'
   AND pid <> pg_backend_pid()";

/// One process run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pgconn,
    Psql,
    /// The libpq floor, `benches/floor.c`.
    Floor,
}

/// How a measured process reaches the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The cluster's unix socket (its PG* environment as it is).
    Socket,
    /// 127.0.0.1 on this port: the latency proxy (PGHOST and PGPORT set to it).
    Proxy(u16),
}

/// One side of a comparison: which program, with which arguments, over which route.
#[derive(Debug, Clone, Copy)]
struct Side<'a> {
    tool: Tool,
    args: &'a [&'a str],
    route: Route,
}

impl<'a> Side<'a> {
    fn new(tool: Tool, args: &'a [&'a str], route: Route) -> Side<'a> {
        Side { tool, args, route }
    }
}

struct Runner {
    cluster: Cluster,
    psql: PathBuf,
    /// The compiled libpq floor; None when it could not be built (the floor comparisons are skipped).
    floor: Option<PathBuf>,
    stderr: PathBuf,
    launcher: Launcher,
}

/// Starts the measured processes from a small helper process.
///
/// Linux keeps a process's peak RSS across exec, and a child spawned straight from this process (which holds
/// thousands of sessions) would start out with this process's peak. The helper is a fresh exec of this
/// binary that does nothing else, so what it starts reports its own peak (or the helper's few MiB, the
/// floor shown in the report).
struct Launcher {
    child: std::process::Child,
    to: std::process::ChildStdin,
    from: BufReader<std::process::ChildStdout>,
}

const LAUNCHER_ENV: &str = "PSQL_COMPARE_LAUNCHER";

impl Launcher {
    fn start() -> Result<Launcher> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(LAUNCHER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the launcher")?;
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        Ok(Launcher { child, to, from })
    }

    fn run(&mut self, cmd: &Command, stderr: &Path) -> Result<(Sample, i32)> {
        let request = serde_json::json!({
            "program": cmd.get_program().to_string_lossy(),
            "args": cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
            "env": cmd
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_string_lossy(), v.to_string_lossy())))
                .collect::<Vec<_>>(),
            "stderr": stderr,
        });
        writeln!(self.to, "{request}")?;
        self.to.flush()?;
        let mut line = String::new();
        if self.from.read_line(&mut line)? == 0 {
            bail!("the launcher exited");
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        if let Some(e) = v["error"].as_str() {
            bail!("launching {:?}: {e}", cmd.get_program());
        }
        let num = |k: &str| v[k].as_u64().unwrap_or(0);
        Ok((
            Sample {
                wall: Duration::from_nanos(num("wall_ns")),
                cpu: Duration::from_nanos(num("cpu_ns")),
                max_rss_kib: num("max_rss_kib") as i64,
            },
            v["status"].as_i64().unwrap_or(-1) as i32,
        ))
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The helper's loop: one JSON request per line on stdin (program, args, the complete environment, a file
/// for stderr), one JSON answer per line on stdout.
fn launcher_main() -> Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let req: serde_json::Value = serde_json::from_str(&line?)?;
        let answer = match launch(&req) {
            Ok(v) => v,
            Err(e) => serde_json::json!({ "error": format!("{e:#}") }),
        };
        writeln!(stdout, "{answer}")?;
        stdout.flush()?;
    }
    Ok(())
}

fn launch(req: &serde_json::Value) -> Result<serde_json::Value> {
    let strs = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut cmd = Command::new(req["program"].as_str().context("program")?);
    cmd.args(strs(&req["args"])).env_clear();
    for pair in req["env"].as_array().into_iter().flatten() {
        let kv = strs(pair);
        if let [k, v] = kv.as_slice() {
            cmd.env(k, v);
        }
    }
    let err = File::create(req["stderr"].as_str().context("stderr")?)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err));
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; the child is ours and not reaped elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if rc != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    Ok(serde_json::json!({
        "wall_ns": wall.as_nanos() as u64,
        "cpu_ns": ns(usage.ru_utime) + ns(usage.ru_stime),
        "max_rss_kib": usage.ru_maxrss,
        "status": code,
    }))
}

/// Whether an exit status means the command did its job: 0, and for `pgconn check` also the Nagios states
/// WARNING (1) and CRITICAL (2), which are its verdict (5,000 sessions of 5,200 are CRITICAL with the
/// default thresholds); UNKNOWN (3) is a failure.
fn succeeded(tool: Tool, args: &[&str], status: i32) -> bool {
    status == 0
        || (tool == Tool::Pgconn && args.first() == Some(&"check") && (1..=2).contains(&status))
}

impl Runner {
    fn command(&self, tool: Tool, args: &[&str], route: Route) -> Command {
        let mut cmd = match tool {
            Tool::Pgconn => Command::new(PGCONN),
            Tool::Psql => {
                let mut c = Command::new(&self.psql);
                c.args(["-X", "-q", "-A", "-v", "ON_ERROR_STOP=1"]);
                c
            }
            Tool::Floor => Command::new(
                self.floor
                    .as_deref()
                    .expect("the floor comparisons run only when the floor was built"),
            ),
        };
        cmd.args(args).env_clear();
        // The complete environment, minus the caller's PG* variables, plus the cluster's.
        for (key, value) in std::env::vars_os() {
            if !key.to_string_lossy().starts_with("PG") {
                cmd.env(key, value);
            }
        }
        cmd.envs(self.cluster.env());
        if let Route::Proxy(port) = route {
            cmd.env("PGHOST", "127.0.0.1")
                .env("PGPORT", port.to_string());
        }
        cmd
    }

    /// Run one process with stdout discarded; wall time from spawn to exit, rusage from wait4.
    fn measure(&mut self, side: Side) -> Result<Sample> {
        let cmd = self.command(side.tool, side.args, side.route);
        let (sample, status) = self.launcher.run(&cmd, &self.stderr)?;
        if !succeeded(side.tool, side.args, status) {
            bail!(
                "{cmd:?} failed (exit status {status}): {}",
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
        }
        Ok(sample)
    }

    /// stdout and stderr of one run over the unix socket (not timed), to check that the tools see what they
    /// should and to read what pgconn echoes with `--show-sql`.
    fn run_once(&self, tool: Tool, args: &[&str]) -> Result<(String, String)> {
        let out = self
            .command(tool, args, Route::Socket)
            .stdin(Stdio::null())
            .output()
            .context("running a check")?;
        let status = out.status.code().unwrap_or(-1);
        if !succeeded(tool, args, status) {
            bail!(
                "{tool:?} {args:?} failed (exit status {status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// stdout of one run over the unix socket (not timed).
    fn output(&self, tool: Tool, args: &[&str]) -> Result<String> {
        Ok(self.run_once(tool, args)?.0)
    }

    fn count(&self, sql: &str) -> Result<i64> {
        let text = self.cluster.psql(sql)?;
        text.trim()
            .parse()
            .with_context(|| format!("{sql}: {text:?}"))
    }

    /// Client backends of the simulated application, by state.
    fn bench_sessions(&self) -> Result<i64> {
        self.count(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APP}'"
        ))
    }

    fn wait_sessions(&self, want: i64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let n = self.bench_sessions()?;
            if n == want {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{n} sessions of {APP} after 30 s, expected {want}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Medians of a series of samples.
#[derive(Debug, Clone, Copy)]
struct Stats {
    wall_ms: f64,
    cpu_ms: f64,
    max_rss_mib: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn stats(samples: &[Sample]) -> Stats {
    Stats {
        wall_ms: median(samples.iter().map(|s| s.wall.as_secs_f64() * 1e3).collect()),
        cpu_ms: median(samples.iter().map(|s| s.cpu.as_secs_f64() * 1e3).collect()),
        // Peak memory: the largest of all runs, not the median.
        max_rss_mib: samples
            .iter()
            .map(|s| s.max_rss_kib as f64 / 1024.0)
            .fold(0.0, f64::max),
    }
}

struct Row {
    what: &'static str,
    sessions: usize,
    pgconn: Stats,
    psql: Stats,
    /// Median over the runs of pgconn's wall time divided by that of the psql run next to it.
    paired_ratio: f64,
    goal_ratio: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.paired_ratio
    }
}

/// What one comparison measured: both tools' statistics and the median of the per-run ratios.
type Comparison = (Stats, Stats, f64);

fn compared(a: &[Sample], b: &[Sample]) -> Comparison {
    let ratios = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.wall.as_secs_f64() / y.wall.as_secs_f64())
        .collect();
    (stats(a), stats(b), median(ratios))
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Alternate the two sides (swapping who goes first each run) after one untimed warm-up each.
fn compare(runner: &mut Runner, runs: usize, first: Side, second: Side) -> Result<Comparison> {
    let (a, b) = alternate(runs, |side| {
        runner.measure(if side == 0 { first } else { second })
    })?;
    Ok(compared(&a, &b))
}

/// The order of every comparison: `run(0)` measures the first side, `run(1)` the second; one untimed
/// warm-up each, then `runs` of each, who goes first swapping every run. The timed results of each side.
fn alternate<T>(runs: usize, mut run: impl FnMut(usize) -> Result<T>) -> Result<(Vec<T>, Vec<T>)> {
    run(0)?;
    run(1)?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..runs {
        if i % 2 == 0 {
            a.push(run(0)?);
            b.push(run(1)?);
        } else {
            b.push(run(1)?);
            a.push(run(0)?);
        }
    }
    Ok((a, b))
}

/// kill-idle: fresh sessions before every run, checked to be gone after it.
fn compare_kill(runner: &mut Runner, runs: usize, n: usize) -> Result<Comparison> {
    let pgconn_args = ["kill-idle", "--older-than", "0s", "--yes"];
    let psql_args = ["-c", PSQL_KILL];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    // One untimed round of each first, like the other comparisons.
    for i in 0..runs + 1 {
        for k in 0..2 {
            let tool = if (i + k) % 2 == 0 {
                Tool::Pgconn
            } else {
                Tool::Psql
            };
            let mut w = Workload::new();
            w.idle(&runner.cluster, n, ROLE, "postgres", APP)?;
            runner.wait_sessions(n as i64)?;
            let args: &[&str] = if tool == Tool::Pgconn {
                &pgconn_args
            } else {
                &psql_args
            };
            let sample = runner.measure(Side::new(tool, args, Route::Socket))?;
            runner
                .wait_sessions(0)
                .with_context(|| format!("after {tool:?} terminated them"))?;
            drop(w);
            if i > 0 {
                if tool == Tool::Pgconn {
                    a.push(sample);
                } else {
                    b.push(sample);
                }
            }
        }
    }
    Ok(compared(&a, &b))
}

// ---------------------------------------------------------------------------------------------------------
// The libpq floor: benches/floor.c, compiled at start.

const FLOOR_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/floor.c");

/// Compile the floor with `cc -O2 floor.c -I$(pg_config --includedir) -lpq` into cargo's scratch directory
/// for benchmarks. The error says what is missing (compiler, pg_config, libpq-fe.h) in a sentence.
fn build_floor() -> Result<PathBuf> {
    let cc = std::env::var("PGCONN_BENCH_CC").unwrap_or_else(|_| "cc".into());
    let include = Command::new("pg_config")
        .arg("--includedir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .context("pg_config not found (it comes with libpq-dev: `apt-get install -y libpq-dev`)")?;
    if !Path::new(&include).join("libpq-fe.h").is_file() {
        bail!("libpq-fe.h is not in {include} (install libpq-dev: `apt-get install -y libpq-dev`)");
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pgconn-bench-floor");
    let result = Command::new(&cc)
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(FLOOR_SOURCE)
        .arg(format!("-I{include}"))
        .arg("-lpq")
        .arg("-pthread")
        .output()
        .with_context(|| {
            format!("C compiler `{cc}` not found (set PGCONN_BENCH_CC, or install gcc)")
        })?;
    if !result.status.success() {
        bail!(
            "`{cc}` could not build {FLOOR_SOURCE}: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    Ok(out)
}

/// A read command of pgconn and the one statement the floor runs in its place.
struct FloorCase {
    what: &'static str,
    pgconn_args: &'static [&'static str],
    /// The first line of every statement pgconn sent for it, in order (its `--show-sql` echo).
    sent: Vec<String>,
    /// The floor's SQL: pgconn's last (main) statement with its parameters written in as literals.
    sql: String,
    /// Where `sql` came from, when it is not pgconn's own statement (then the psql statement).
    fallback: Option<String>,
}

/// The read commands compared with the floor, and the psql statement each falls back to when pgconn's own
/// cannot be rebuilt from its echo.
const FLOOR_COMMANDS: [(&str, &[&str], &str); 3] = [
    ("status", &["status", "--json"], PSQL_STATUS),
    ("sessions", &["sessions", "--json"], PSQL_SESSIONS),
    ("check", &["check"], PSQL_STATUS),
];

/// One statement as `--show-sql` echoes it (src/db.rs, `Db::echo`): the text, ended by `;` on the last line,
/// then one line `-- $N = VALUE` per bind parameter, VALUE in Rust's Debug notation.
#[derive(Debug, Default)]
struct Echoed {
    sql: String,
    params: Vec<String>,
}

/// Split pgconn's stderr under `--show-sql` into statements. A statement ends at a line that is not a
/// comment and ends with `;`; the `-- $N = ` lines after it are its parameters, in order.
fn parse_echo(stderr: &str) -> Result<Vec<Echoed>> {
    let mut done: Vec<Echoed> = Vec::new();
    let mut text = String::new();
    for line in stderr.lines() {
        if let Some((n, value)) = line
            .strip_prefix("-- $")
            .and_then(|rest| rest.split_once(" = "))
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            if text.trim().is_empty() {
                let last = done
                    .last_mut()
                    .context("a parameter line before any statement")?;
                if n.parse::<usize>()? != last.params.len() + 1 {
                    bail!("parameter ${n} out of order in the echo");
                }
                last.params.push(value.to_string());
                continue;
            }
        }
        text.push_str(line);
        text.push('\n');
        if !line.trim_start().starts_with("--") && line.trim_end().ends_with(';') {
            done.push(Echoed {
                sql: std::mem::take(&mut text),
                params: Vec::new(),
            });
        }
    }
    Ok(done)
}

/// The first line of a statement (pgconn's SQL files start with a comment that says what they are).
fn headline(sql: &str) -> String {
    sql.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// A Rust Debug value from the echo (`[]`, `["a", "b"]`, `None`, `Some(600.0)`, `true`, `3`, `"x"`) as a SQL
/// literal of the type pgconn binds: text[] and int[] lists, float8 for floating point numbers (pgconn's
/// ages are f64), NULL for None. An empty list is the untyped `'{}'`: every place pgconn's statements use
/// one casts it or compares it with ANY, which gives it the element type.
fn sql_literal(debug: &str) -> Result<String> {
    let mut p = DebugValue {
        s: debug.trim().as_bytes(),
        at: 0,
    };
    let v = p.value()?;
    if p.at != p.s.len() {
        bail!("trailing text in parameter value {debug:?}");
    }
    Ok(v)
}

/// A small reader of the Debug notations above.
struct DebugValue<'a> {
    s: &'a [u8],
    at: usize,
}

impl DebugValue<'_> {
    fn skip_spaces(&mut self) {
        while self.s.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<String> {
        self.skip_spaces();
        if self.eat("None") {
            return Ok("NULL".into());
        }
        if self.eat("Some(") {
            let v = self.value()?;
            if !self.eat(")") {
                bail!("unclosed Some(");
            }
            return Ok(v);
        }
        if self.eat("true") {
            return Ok("true".into());
        }
        if self.eat("false") {
            return Ok("false".into());
        }
        match self.s.get(self.at) {
            Some(b'"') => self.string(),
            Some(b'[') => self.list(),
            Some(c) if c.is_ascii_digit() || *c == b'-' => Ok(self.number()),
            _ => bail!("unexpected parameter value at byte {}", self.at),
        }
    }

    fn number(&mut self) -> String {
        let start = self.at;
        while self
            .s
            .get(self.at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"-+.".contains(c))
        {
            self.at += 1;
        }
        let n = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
        if n.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
            n
        } else {
            // f64 (Debug always writes a point or an exponent; inf and NaN as words).
            format!("'{n}'::float8")
        }
    }

    /// A Debug string: `"` ... `"` with \" \\ \n \r \t \0 \' and \u{...} escapes, as a quoted SQL string.
    fn string(&mut self) -> Result<String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.at) {
                None => bail!("unclosed string"),
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = *self.s.get(self.at).context("escape at the end")?;
                    self.at += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'0' => bail!("NUL in a parameter"),
                        b'u' => {
                            let rest = &self.s[self.at..];
                            let close = rest.iter().position(|&b| b == b'}').context("\\u{")?;
                            let hex = std::str::from_utf8(&rest[1..close])?;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16)?)
                                .context("bad \\u escape")?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                            self.at += close + 1;
                        }
                        other => out.push(other),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        let text = String::from_utf8(out)?;
        Ok(format!("'{}'", text.replace('\'', "''")))
    }

    /// `[a, b]` as ARRAY[a, b] (text[] of strings, int[] of integers); `[]` as `'{}'`.
    fn list(&mut self) -> Result<String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            if self.eat("]") {
                break;
            }
            items.push(self.value()?);
            self.skip_spaces();
            if !self.eat(",") && self.s.get(self.at) != Some(&b']') {
                bail!("expected , or ] in a list");
            }
        }
        Ok(if items.is_empty() {
            "'{}'".into()
        } else {
            format!("ARRAY[{}]", items.join(", "))
        })
    }
}

/// Write the parameters into a statement: every `$N` outside comments, string literals and quoted names
/// becomes `(literal)`.
fn inline_params(sql: &str, params: &[String]) -> Result<String> {
    let literals = params
        .iter()
        .map(|p| sql_literal(p))
        .collect::<Result<Vec<_>>>()?;
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 256);
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            }
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = (i + 1..b.len())
                    .find(|&j| !b[j].is_ascii_digit())
                    .unwrap_or(b.len());
                let n: usize = sql[i + 1..end].parse()?;
                let literal = literals
                    .get(n.wrapping_sub(1))
                    .with_context(|| format!("${n} has no value in the echo"))?;
                out.push_str(&sql[copied..i]);
                let _ = write!(out, "({literal})");
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(b.len())..]);
    Ok(out)
}

/// Ask pgconn for the statements of one command (`--show-sql`, over the unix socket) and build the floor's
/// statement from the last one. Falls back to the psql statement, saying why, when the echo cannot be used.
fn floor_case(
    runner: &Runner,
    what: &'static str,
    pgconn_args: &'static [&'static str],
    psql_sql: &str,
) -> Result<FloorCase> {
    let mut args = pgconn_args.to_vec();
    args.push("--show-sql");
    let (_, stderr) = runner.run_once(Tool::Pgconn, &args)?;
    let echoed = parse_echo(&stderr)?;
    let sent: Vec<String> = echoed.iter().map(|e| headline(&e.sql)).collect();
    let built = echoed
        .last()
        .context("pgconn echoed no statement")
        .and_then(|main| inline_params(&main.sql, &main.params));
    // The statement must run as it is: one PQexec through psql's own connection settings.
    let checked = built.and_then(|sql| {
        runner
            .run_once(Tool::Psql, &["-c", &sql])
            .map(|_| sql)
            .context("the rebuilt statement does not run")
    });
    Ok(match checked {
        Ok(sql) => FloorCase {
            what,
            pgconn_args,
            sent,
            sql,
            fallback: None,
        },
        Err(e) => {
            eprintln!(
                "psql_compare: cannot rebuild pgconn's {what} statement from its --show-sql echo \
                 ({e:#}); the floor runs the psql statement instead"
            );
            FloorCase {
                what,
                pgconn_args,
                sent,
                sql: psql_sql.to_string(),
                fallback: Some(format!("{e:#}")),
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------------------
// The latency proxy.

/// A TCP proxy on 127.0.0.1 (a free port) in front of the cluster's TCP port that holds every chunk of
/// bytes, in both directions, for a fixed one-way latency before passing it on. Each direction of each
/// connection has a reader thread, which timestamps a chunk as soon as it arrives, and a writer thread,
/// which delivers the chunks in arrival order, each at its timestamp plus the latency; so order is kept
/// per direction and a burst costs the latency once, not once per chunk. An end of stream (or a read error)
/// is passed on the same way, as a shutdown of the write half. The proxy also counts, per connection, how
/// often the server spoke after the client had: the round trips the client waited for.
struct LatencyProxy {
    port: u16,
    latency: Duration,
    traces: Arc<Mutex<Vec<Arc<Mutex<Trace>>>>>,
}

/// Who spoke last on one proxied connection, and how often the conversation turned to the server.
#[derive(Debug, Default)]
struct Trace {
    last_from_client: Option<bool>,
    round_trips: usize,
}

impl Trace {
    fn saw(&mut self, from_client: bool) {
        if !from_client && self.last_from_client == Some(true) {
            self.round_trips += 1;
        }
        self.last_from_client = Some(from_client);
    }
}

impl LatencyProxy {
    /// Listen on 127.0.0.1 and accept connections in a background thread until the process ends.
    fn start(upstream: SocketAddr, latency: Duration) -> Result<LatencyProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the latency proxy")?;
        let port = listener.local_addr()?.port();
        let traces: Arc<Mutex<Vec<Arc<Mutex<Trace>>>>> = Arc::default();
        let registry = Arc::clone(&traces);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let trace = Arc::new(Mutex::new(Trace::default()));
                registry.lock().unwrap().push(Arc::clone(&trace));
                if let Err(e) = relay(client, upstream, latency, trace) {
                    eprintln!("psql_compare: latency proxy: {e:#}");
                }
            }
        });
        Ok(LatencyProxy {
            port,
            latency,
            traces,
        })
    }

    /// Round trips summed over the connections since the last call, and how many connections there were.
    fn take_round_trips(&self) -> (usize, usize) {
        let traces = std::mem::take(&mut *self.traces.lock().unwrap());
        let trips = traces.iter().map(|t| t.lock().unwrap().round_trips).sum();
        (trips, traces.len())
    }
}

/// Connect to the server for one client and start the two directions.
fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    latency: Duration,
    trace: Arc<Mutex<Trace>>,
) -> Result<()> {
    let server = TcpStream::connect(upstream).context("connecting to the cluster's TCP port")?;
    // Each chunk goes out as soon as it is due, not when Nagle's algorithm lets it.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    forward(
        client.try_clone()?,
        server.try_clone()?,
        latency,
        Arc::clone(&trace),
        true,
    )?;
    forward(server, client, latency, trace, false)
}

/// One direction of a proxied connection: `from` is read by one thread, `to` written by another.
fn forward(
    mut from: TcpStream,
    mut to: TcpStream,
    latency: Duration,
    trace: Arc<Mutex<Trace>>,
    from_client: bool,
) -> Result<()> {
    // (due time, chunk); None is the end of the stream.
    let (tx, rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>();
    let reader_side = from.try_clone()?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf).unwrap_or(0);
            let due = Instant::now() + latency;
            if n == 0 {
                let _ = tx.send((due, None));
                return;
            }
            trace.lock().unwrap().saw(from_client);
            if tx.send((due, Some(buf[..n].to_vec()))).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        for (due, chunk) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let Some(bytes) = chunk else {
                let _ = to.shutdown(Shutdown::Write);
                return;
            };
            if to.write_all(&bytes).is_err() {
                // The receiver is gone: end both sockets so that the reader threads stop too.
                let _ = to.shutdown(Shutdown::Both);
                let _ = reader_side.shutdown(Shutdown::Both);
                return;
            }
        }
    });
    Ok(())
}

/// What the floor comparisons found, for the report.
struct FloorReport {
    /// Why the floor comparisons did not run (no compiler, no libpq header).
    skipped: Option<String>,
    /// The proxy's one-way latency.
    latency: Duration,
    cases: Vec<FloorCase>,
    /// Over the unix socket.
    local: Vec<FloorRow>,
    /// Through the latency proxy.
    proxied: Vec<FloorRow>,
    /// Against the bare view statements ([`VIEW_FLOOR`]), over the unix socket.
    view: Vec<FloorRow>,
    /// Where the server's time goes at the largest size: each statement's EXPLAIN ANALYZE.
    explained: Vec<Explained>,
    /// The sessions statement against itself without `blocked_by`, with no session waiting on a lock
    /// ([`compare_blocked_by`]).
    blocked_by: Vec<FloorRow>,
}

/// One statement's EXPLAIN ANALYZE (FORMAT JSON) at the largest size: the run with the median execution
/// time of [`EXPLAIN_RUNS`].
struct Explained {
    what: String,
    sql: String,
    planning_ms: f64,
    execution_ms: f64,
    /// Every plan node, depth first: (depth, label, rows, inclusive ms, exclusive ms).
    nodes: Vec<(usize, String, u64, f64, f64)>,
}

/// EXPLAIN (ANALYZE, FORMAT JSON) of `sql` through psql, [`EXPLAIN_RUNS`] times; the median run.
fn explain(runner: &Runner, what: &str, sql: &str) -> Result<Explained> {
    let mut runs = Vec::new();
    for _ in 0..EXPLAIN_RUNS {
        let text = runner.output(
            Tool::Psql,
            &["-t", "-c", &format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}")],
        )?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("EXPLAIN of {what}: {text}"))?;
        let top = &v[0];
        let mut nodes = Vec::new();
        let mut ctes = Ctes::default();
        plan_nodes(&top["Plan"], 0, &mut nodes, &mut ctes);
        ctes.settle(&mut nodes);
        runs.push(Explained {
            what: what.to_string(),
            sql: sql.to_string(),
            planning_ms: top["Planning Time"].as_f64().unwrap_or(f64::NAN),
            execution_ms: top["Execution Time"].as_f64().unwrap_or(f64::NAN),
            nodes,
        });
    }
    runs.sort_by(|a, b| a.execution_ms.total_cmp(&b.execution_ms));
    Ok(runs.swap_remove(EXPLAIN_RUNS / 2))
}

/// Where the time of each CTE went. A CTE's plan is listed where it is defined (an InitPlan named
/// `CTE name`), but it runs when a CTE Scan first reads it, inside that scan's time: so it is left out of
/// its parent's children, and taken from the own time of the scan of it that took longest.
#[derive(Default)]
struct Ctes {
    /// Total time of each CTE's plan, by name.
    plans: Vec<(String, f64)>,
    /// Each CTE Scan: its node's position and the CTE's name.
    scans: Vec<(usize, String)>,
}

impl Ctes {
    fn settle(&self, nodes: &mut [(usize, String, u64, f64, f64)]) {
        for (name, time) in &self.plans {
            let first = self
                .scans
                .iter()
                .filter(|(_, n)| n == name)
                .map(|(at, _)| *at)
                .max_by(|a, b| nodes[*a].3.total_cmp(&nodes[*b].3));
            if let Some(at) = first {
                nodes[at].4 = (nodes[at].4 - time).max(0.0);
            }
        }
    }
}

/// A plan node and its children, depth first, with its inclusive time (actual total time × loops) and
/// its exclusive time (the inclusive time less its children's).
fn plan_nodes(
    node: &serde_json::Value,
    depth: usize,
    out: &mut Vec<(usize, String, u64, f64, f64)>,
    ctes: &mut Ctes,
) {
    let loops = node["Actual Loops"].as_f64().unwrap_or(1.0);
    let inclusive = node["Actual Total Time"].as_f64().unwrap_or(0.0) * loops;
    let mut label = node["Node Type"].as_str().unwrap_or("?").to_string();
    for key in [
        "Strategy",
        "Join Type",
        "Function Name",
        "Relation Name",
        "Subplan Name",
    ] {
        if let Some(v) = node[key].as_str() {
            label.push_str(&format!(" {v}"));
        }
    }
    if let Some(alias) = node["Alias"].as_str() {
        label.push_str(&format!(" ({alias})"));
    }
    if let Some(rel) = node["Parent Relationship"]
        .as_str()
        .filter(|r| *r != "Outer" && *r != "Inner")
    {
        label = format!("[{rel}] {label}");
    }
    let rows = (node["Actual Rows"].as_f64().unwrap_or(0.0) * loops) as u64;
    let at = out.len();
    if let Some(name) = node["CTE Name"].as_str() {
        ctes.scans.push((at, name.to_string()));
    }
    out.push((depth, label, rows, inclusive, inclusive));
    let mut children = 0.0;
    for child in node["Plans"].as_array().into_iter().flatten() {
        let loops = child["Actual Loops"].as_f64().unwrap_or(1.0);
        let time = child["Actual Total Time"].as_f64().unwrap_or(0.0) * loops;
        match child["Subplan Name"]
            .as_str()
            .and_then(|n| n.strip_prefix("CTE "))
        {
            Some(cte) => ctes.plans.push((cte.to_string(), time)),
            None => children += time,
        }
        plan_nodes(child, depth + 1, out, ctes);
    }
    out[at].4 = (inclusive - children).max(0.0);
}

/// pgconn's read commands against the floor running the bare view statements, over the unix socket.
fn compare_view(
    runner: &mut Runner,
    runs: usize,
    n: usize,
    selection: &Selection,
    report: &mut FloorReport,
) -> Result<()> {
    for (what, pgconn_args, sql) in VIEW_FLOOR {
        if !selection.wants(what) {
            continue;
        }
        let floor_args = [sql];
        eprintln!("psql_compare: {what} vs the floor's `{sql}` at {n} sessions, {runs} runs each");
        let (a, b, ratio) = compare(
            runner,
            runs,
            Side::new(Tool::Pgconn, pgconn_args, Route::Socket),
            Side::new(Tool::Floor, &floor_args, Route::Socket),
        )?;
        eprintln!(
            "psql_compare:   pgconn {:.1} ms ({:.1} ms CPU), floor {:.1} ms ({:.1} ms CPU), ratio {ratio:.3}",
            a.wall_ms, a.cpu_ms, b.wall_ms, b.cpu_ms
        );
        report.view.push(FloorRow {
            what,
            sessions: n,
            pgconn: a,
            floor: b,
            ratio,
            goal_ratio: VIEW_GOAL,
            round_trips: None,
        });
    }
    if n == SIZES[SIZES.len() - 1] {
        for case in &report.cases {
            if VIEW_FLOOR.iter().any(|(what, ..)| *what == case.what) {
                let e = explain(
                    runner,
                    &format!("pgconn {}", case.pgconn_args.join(" ")),
                    &case.sql,
                )?;
                report.explained.push(e);
            }
        }
        for (what, _, sql) in VIEW_FLOOR {
            if !selection.wants(what) {
                continue;
            }
            report
                .explained
                .push(explain(runner, &format!("`{sql}`"), sql)?);
        }
    }
    Ok(())
}

/// Goal of `blocked_by` with no lock waiter: the sessions statement at most this much slower than
/// without it.
const BLOCKED_BY_GOAL: f64 = 1.05;

/// The sessions statement without the `blocked_by` column (the CASE that reaches pg_blocking_pids for lock
/// waiters only). None when the statement does not have it as blocked_by.sql and sessions.sql write it. (The
/// prepared transactions are a statement of their own, sent only when a session waits for one.)
fn without_blocked_by(sql: &str) -> Option<String> {
    // `m.*,` then the column (blocked_by.sql) as the outer SELECT's last one
    let start = sql.find("       -- pg_blocking_pids takes every lock-manager partition lock")?;
    let end = start + sql[start..].find("END AS blocked_by\n")? + "END AS blocked_by\n".len();
    let before = sql[..start].strip_suffix(",\n")?;
    Some(format!("{before}\n{}", &sql[end..]))
}

/// `blocked_by`'s cost with no session waiting on a lock: the floor running pgconn's sessions statement
/// against the floor running it without `blocked_by`, alternating.
fn compare_blocked_by(
    runner: &mut Runner,
    runs: usize,
    n: usize,
    report: &mut FloorReport,
) -> Result<()> {
    let Some(case) = report
        .cases
        .iter()
        .find(|c| c.what == "sessions" && c.fallback.is_none())
    else {
        eprintln!("psql_compare: SKIPPING blocked_by: pgconn's sessions statement was not rebuilt");
        return Ok(());
    };
    let with = case.sql.clone();
    let without = without_blocked_by(&with).context(
        "the sessions statement has no blocked_by column as session_columns.sql writes it",
    )?;
    // Both must run as they are.
    runner
        .run_once(Tool::Psql, &["-c", &without])
        .context("the sessions statement without blocked_by does not run")?;
    eprintln!(
        "psql_compare: sessions with and without blocked_by at {n} sessions, {runs} runs each"
    );
    let (a, b, ratio) = compare(
        runner,
        runs,
        Side::new(Tool::Floor, &[with.as_str()], Route::Socket),
        Side::new(Tool::Floor, &[without.as_str()], Route::Socket),
    )?;
    eprintln!(
        "psql_compare:   with {:.1} ms, without {:.1} ms, ratio {ratio:.3} (goal ≤ {BLOCKED_BY_GOAL:.2})",
        a.wall_ms, b.wall_ms
    );
    report.blocked_by.push(FloorRow {
        what: "sessions blocked_by",
        sessions: n,
        pgconn: a,
        floor: b,
        ratio,
        goal_ratio: BLOCKED_BY_GOAL,
        round_trips: None,
    });
    Ok(())
}

/// pgconn against the floor for one command and size, over one route.
struct FloorRow {
    what: &'static str,
    sessions: usize,
    pgconn: Stats,
    floor: Stats,
    /// Median over the runs of pgconn's wall time divided by that of the floor run next to it.
    ratio: f64,
    goal_ratio: f64,
    /// What the proxy counted in one untimed run of each (pgconn, floor); None over the unix socket.
    round_trips: Option<(Trips, Trips)>,
}

/// Round trips of one run through the proxy, and over how many connections.
#[derive(Debug, Clone, Copy)]
struct Trips {
    round_trips: usize,
    connections: usize,
}

impl std::fmt::Display for Trips {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.round_trips)?;
        if self.connections != 1 {
            write!(f, " ({} connections)", self.connections)?;
        }
        Ok(())
    }
}

/// Goals against the floor: through the proxy pgconn may cost 5 % more than the floor (its extra work
/// per run is small next to a round trip); locally it should cost no more.
const FLOOR_GOAL_LOCAL: f64 = 1.0;
const FLOOR_GOAL_PROXIED: f64 = 1.05;

/// Below the floor's own SQL: the least any client can do for a read command is read the view at all. Each
/// read command against the floor running the bare view statement; goal [`VIEW_GOAL`].
const VIEW_FLOOR: [(&str, &[&str], &str); 2] = [
    (
        "status",
        &["status", "--json"],
        "SELECT count(*) FROM pg_stat_activity",
    ),
    (
        "sessions",
        &["sessions", "--json"],
        "SELECT * FROM pg_stat_activity",
    ),
];
const VIEW_GOAL: f64 = 1.15;
/// EXPLAIN ANALYZE runs per statement; the plan of the run with the median execution time is shown.
const EXPLAIN_RUNS: usize = 5;

/// Median wall and CPU time of starting a program that exits at once (any exit status), in ms: what a
/// process costs before it connects.
fn start_up(runner: &mut Runner, program: &Path, args: &[&str]) -> Result<(f64, f64)> {
    let mut samples = Vec::new();
    for _ in 0..11 {
        let mut cmd = Command::new(program);
        cmd.args(args);
        samples.push(runner.launcher.run(&cmd, &runner.stderr)?.0);
    }
    let st = stats(&samples);
    Ok((st.wall_ms, st.cpu_ms))
}

/// `pgconn --version` against `psql --version`, alternated like the other comparisons: what starting each
/// program costs (loading it and the libraries it links) before it does anything.
fn compare_start(runner: &mut Runner, runs: usize) -> Result<Comparison> {
    let psql = runner.psql.clone();
    let (a, b) = alternate(runs, |side| {
        let mut cmd = Command::new(if side == 0 {
            Path::new(PGCONN)
        } else {
            psql.as_path()
        });
        cmd.arg("--version");
        let (sample, status) = runner.launcher.run(&cmd, &runner.stderr)?;
        if status != 0 {
            bail!("{cmd:?} failed (exit status {status})");
        }
        Ok(sample)
    })?;
    Ok(compared(&a, &b))
}

/// The Debian package `cargo deb` built, when there is one: its file, size and what dpkg says it takes
/// once installed.
struct Package {
    file: PathBuf,
    bytes: u64,
    version: String,
    installed_kib: u64,
}

/// The newest `target/debian/pgconn_*.deb`; Err says why there is none.
fn package() -> std::result::Result<Package, String> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("debian");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("pgconn_") && name.ends_with(".deb")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max();
    let Some((_, file)) = newest else {
        return Err(format!("no pgconn_*.deb in {}", dir.display()));
    };
    let field = |name: &str| -> std::result::Result<String, String> {
        let out = Command::new("dpkg-deb")
            .arg("-f")
            .arg(&file)
            .arg(name)
            .output()
            .map_err(|e| format!("dpkg-deb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "dpkg-deb -f {} {name}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    Ok(Package {
        bytes: std::fs::metadata(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .len(),
        version: field("Version")?,
        installed_kib: field("Installed-Size")?
            .parse()
            .map_err(|e| format!("Installed-Size: {e}"))?,
        file,
    })
}

/// Run one side once through the proxy (untimed) and count its round trips.
fn count_round_trips(runner: &mut Runner, proxy: &LatencyProxy, side: Side) -> Result<Trips> {
    proxy.take_round_trips();
    runner.measure(side)?;
    let (round_trips, connections) = proxy.take_round_trips();
    Ok(Trips {
        round_trips,
        connections,
    })
}

/// pgconn's read commands against the floor at `n` sessions, over the unix socket and then through the
/// latency proxy.
fn compare_floor(
    runner: &mut Runner,
    proxy: &LatencyProxy,
    runs: usize,
    n: usize,
    report: &mut FloorReport,
) -> Result<()> {
    // The floor sees every session too (its own backend is left out by pgconn's statement, as pgconn's is).
    if let Some(case) = report.cases.iter().find(|c| c.what == "sessions") {
        let out = runner.output(Tool::Floor, &[&case.sql])?;
        let rows: Option<usize> = out.split_whitespace().next().and_then(|r| r.parse().ok());
        if rows != Some(n) {
            bail!("the floor's sessions statement returned {out:?}, not {n} rows");
        }
    }
    let (mut local, mut proxied) = (Vec::new(), Vec::new());
    for route in [Route::Socket, Route::Proxy(proxy.port)] {
        let (label, goal_ratio) = match route {
            Route::Socket => ("local".to_string(), FLOOR_GOAL_LOCAL),
            Route::Proxy(_) => (
                format!("{} ms each way", report.latency.as_millis()),
                FLOOR_GOAL_PROXIED,
            ),
        };
        for case in &report.cases {
            let floor_args = [case.sql.as_str()];
            let pgconn = Side::new(Tool::Pgconn, case.pgconn_args, route);
            let floor = Side::new(Tool::Floor, &floor_args, route);
            let round_trips = match route {
                Route::Socket => None,
                Route::Proxy(_) => Some((
                    count_round_trips(runner, proxy, pgconn)?,
                    count_round_trips(runner, proxy, floor)?,
                )),
            };
            eprintln!(
                "psql_compare: {} vs floor ({label}) at {n} sessions, {runs} runs each{}",
                case.what,
                round_trips
                    .map(|(a, b)| format!("; round trips pgconn {a}, floor {b}"))
                    .unwrap_or_default()
            );
            let (a, b, ratio) = compare(runner, runs, pgconn, floor)?;
            eprintln!(
                "psql_compare:   pgconn {:.1} ms, floor {:.1} ms, ratio {ratio:.3}",
                a.wall_ms, b.wall_ms
            );
            let row = FloorRow {
                what: case.what,
                sessions: n,
                pgconn: a,
                floor: b,
                ratio,
                goal_ratio,
                round_trips,
            };
            match route {
                Route::Socket => local.push(row),
                Route::Proxy(_) => proxied.push(row),
            }
        }
    }
    report.local.extend(local);
    report.proxied.extend(proxied);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Many targets and the exporter: `status --targets` of many targets against one through the latency
// proxy, the exporter's /probe and /metrics, and a load of /probe requests watched from the server.

/// Targets of the fleet comparisons: lines naming the same proxy address, each with a name and an
/// application_name of its own, so that they are distinct targets, each with its own connection.
const FLEET_TARGETS: usize = 50;
/// The goal of many targets against one, for `status --targets` and for the exporter's `/metrics`.
const FLEET_GOAL: f64 = 1.5;
/// `--jobs`'s default before it was raised: 50 targets take two waves at it (the row that shows why).
const FORMER_JOBS: usize = 32;
/// The exporter's `/probe` against `status --format prometheus` run as a process.
const PROBE_GOAL: f64 = 1.0;
/// The load: requests, clients at once (each sends its next request after the answer to its last), and
/// the exporter's peak resident set allowed.
const LOAD_REQUESTS: usize = 1_000;
const LOAD_CLIENTS: usize = 10;
const LOAD_RSS_GOAL_MIB: f64 = 30.0;
/// How often the load's watcher counts the exporter's backends.
const LOAD_SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// The application_name the exporter's connections carry: pgconn's default, since the targets files'
/// lines set none.
const EXPORTER_APP: &str = "pgconn";

/// Clock ticks per second, the unit of the times in /proc/PID/stat.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// One process's CPU from /proc/PID/stat: utime + stime (every thread, ended ones included) and, with
/// `reaped`, cutime + cstime too (its children that ended and were waited for). None when it is gone.
fn proc_cpu(pid: i32, reaped: bool) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name in parentheses may hold spaces: count the fields after its last `)`, where field N of
    // proc(5) is at N - 3 (utime 14, stime 15, cutime 16, cstime 17).
    let fields: Vec<u64> = stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let mut ticks = fields.get(11)? + fields.get(12)?;
    if reaped {
        ticks += fields.get(13)? + fields.get(14)?;
    }
    Some(Duration::from_nanos(ticks * 1_000_000_000 / clock_ticks()))
}

/// The children of a process: /proc/PID/task/PID/children, or a scan of /proc on a kernel without it.
fn children(pid: i32) -> Vec<i32> {
    if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        return text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
    }
    let ppid = |p: i32| -> Option<i32> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        stat[stat.rfind(')')? + 1..]
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| ppid(p) == Some(pid))
        .collect()
}

/// The server's CPU: the postmaster's own, that of its processes running now, and that of those that
/// ended (the backends of closed connections, which the postmaster reaps: its cutime and cstime).
fn server_cpu(postmaster: i32) -> Duration {
    proc_cpu(postmaster, true).unwrap_or_default()
        + children(postmaster)
            .into_iter()
            .filter_map(|c| proc_cpu(c, false))
            .sum::<Duration>()
}

/// This process's CPU, every thread: the latency proxy's relays are threads of it.
fn own_cpu() -> Duration {
    // SAFETY: getrusage fills in a plain struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn postmaster_pid(cluster: &Cluster) -> Result<i32> {
    let path = cluster.data_dir().join("postmaster.pid");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
    text.lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("{path:?} names no pid"))
}

/// What the server, this process (the latency proxy's threads, the HTTP client) and an exporter spent
/// during one run.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server: Duration,
    proxy: Duration,
    exporter: Duration,
}

/// Reads the CPU of the server and of this process (and of an exporter) around a run.
struct Meter {
    postmaster: i32,
    exporter: Option<i32>,
}

impl Meter {
    /// Run `f`, then wait (at most 2 s) until the postmaster has no more processes than before, so that
    /// the backends the run opened have ended and their time is counted; what each spent meanwhile.
    /// The /proc reads of the server are outside this process's window; the wait's are in it (a few
    /// small file reads).
    fn around<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Cpu)> {
        let exporter_cpu = || {
            self.exporter
                .and_then(|p| proc_cpu(p, true))
                .unwrap_or_default()
        };
        let processes = children(self.postmaster).len();
        let server = server_cpu(self.postmaster);
        let exporter = exporter_cpu();
        let own = own_cpu();
        let out = f()?;
        let until = Instant::now() + Duration::from_secs(2);
        while children(self.postmaster).len() > processes && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        let proxy = own_cpu().saturating_sub(own);
        let cpu = Cpu {
            server: server_cpu(self.postmaster).saturating_sub(server),
            proxy,
            exporter: exporter_cpu().saturating_sub(exporter),
        };
        Ok((out, cpu))
    }
}

/// Mean CPU per run in ms: the server's and an exporter's times tick in steps of 1/CLK_TCK s (10 ms),
/// so a mean over the runs, not a median.
#[derive(Debug, Clone, Copy, Default)]
struct CpuMeans {
    server_ms: f64,
    proxy_ms: f64,
    exporter_ms: f64,
}

fn cpu_means(v: &[Cpu]) -> CpuMeans {
    let mean = |f: fn(&Cpu) -> Duration| {
        v.iter().map(|c| f(c).as_secs_f64() * 1e3).sum::<f64>() / v.len().max(1) as f64
    };
    CpuMeans {
        server_ms: mean(|c| c.server),
        proxy_ms: mean(|c| c.proxy),
        exporter_ms: mean(|c| c.exporter),
    }
}

/// The targets files of the fleet comparisons: `many` has [`FLEET_TARGETS`] lines through the proxy,
/// `one` the first of them; `local` names the cluster over its unix socket.
struct FleetFiles {
    many: PathBuf,
    one: PathBuf,
    local: PathBuf,
}

fn fleet_files(cluster: &Cluster, proxy_port: u16) -> Result<FleetFiles> {
    let user = cluster.superuser();
    let line = |i: usize| {
        format!(
            "t{i:02}: host=127.0.0.1 port={proxy_port} user={user} dbname=postgres \
             application_name=bench-fleet-{i:02}"
        )
    };
    let dir = cluster.root_dir();
    let files = FleetFiles {
        many: dir.join(format!("bench-targets-{FLEET_TARGETS}")),
        one: dir.join("bench-targets-1"),
        local: dir.join("bench-targets-local"),
    };
    let many: Vec<String> = (1..=FLEET_TARGETS).map(line).collect();
    std::fs::write(&files.many, many.join("\n") + "\n")?;
    std::fs::write(&files.one, line(1) + "\n")?;
    std::fs::write(
        &files.local,
        format!("local: {}\n", cluster.conninfo(user, "postgres")),
    )?;
    Ok(files)
}

/// One side of a fleet comparison: medians of the client's runs and the means of the CPU around them.
#[derive(Debug, Clone, Copy)]
struct FleetSide {
    targets: usize,
    stats: Stats,
    cpu: CpuMeans,
    /// What the proxy counted in one untimed run: round trips and connections.
    trips: Option<Trips>,
}

/// Many targets against one: `status --targets` (the client is pgconn, a process) or the exporter's
/// `/metrics` against its `/probe` (the client is the exporter).
struct FleetRow {
    what: String,
    jobs: usize,
    many: FleetSide,
    one: FleetSide,
    /// Median over the runs of the many-target run's wall time divided by the one-target run's next to it.
    ratio: f64,
    goal: Option<f64>,
}

/// The exporter's `/probe` against `pgconn status --format prometheus` run as a process.
struct ProbeRow {
    sessions: usize,
    exporter: Stats,
    process: Stats,
    exporter_cpu: CpuMeans,
    process_cpu: CpuMeans,
    ratio: f64,
}

/// The load of `/probe` requests and what the server saw of it.
struct LoadReport {
    sessions: usize,
    requests: usize,
    clients: usize,
    failed: usize,
    first_failure: Option<String>,
    wall: Duration,
    median_ms: f64,
    p95_ms: f64,
    samples: usize,
    max_backends: i64,
    /// Backends of the exporter when the watcher last looked (at most 5 s after the load), and after
    /// how long it saw none.
    left_after: i64,
    gone_after: Option<Duration>,
    /// Connections the exporter opened for the load (pg_stat_database.sessions, PostgreSQL 14 on).
    connections: Option<i64>,
    peak_rss_mib: f64,
}

/// What the fleet comparisons found, for the report.
struct FleetReport {
    latency: Duration,
    cores: usize,
    status: Vec<FleetRow>,
    metrics: Option<FleetRow>,
    probe: Option<ProbeRow>,
    load: Option<LoadReport>,
    /// The libpq floor on the same targets, a thread per target, all at once.
    floor: Option<FleetFloor>,
}

/// The least any client can do for many targets on this machine: `benches/floor.c` with one thread per
/// target, all started at once, running pgconn's status statement through the proxy.
struct FleetFloor {
    /// The floor's own many targets against its one.
    own: FleetRow,
    /// pgconn's many targets against the floor's many, run by turns.
    pgconn: Stats,
    floor: Stats,
    ratio: f64,
}

/// [`FleetFloor`]: the floor's own ratio, then pgconn's `status --targets` against it.
fn compare_fleet_floor(
    runner: &mut Runner,
    proxy: &LatencyProxy,
    meter: &Meter,
    runs: usize,
    files: &FleetFiles,
    sql: &str,
) -> Result<FleetFloor> {
    let user = runner.cluster.superuser().to_string();
    let conninfo = |i: usize| {
        format!(
            "host=127.0.0.1 port={} user={user} dbname=postgres application_name=bench-fleet-{i:02}",
            proxy.port
        )
    };
    let many: Vec<String> = std::iter::once(sql.to_string())
        .chain((1..=FLEET_TARGETS).map(conninfo))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let one_info = conninfo(1);
    let one = [sql, one_info.as_str()];
    let route = Route::Proxy(proxy.port);
    let sides = [
        Side::new(Tool::Floor, &many, route),
        Side::new(Tool::Floor, &one, route),
    ];
    let trips = many_and_one_trips(runner, proxy, sides)?;
    eprintln!(
        "psql_compare: the libpq floor: {FLEET_TARGETS} targets (a thread each) vs one, {runs} runs each"
    );
    let (a, b) = alternate(runs, |k| meter.around(|| runner.measure(sides[k])))?;
    let own = fleet_row(
        "the libpq floor, a thread per target".into(),
        FLEET_TARGETS,
        [&a, &b],
        trips.map(Some),
        None,
    );
    let many_file = files.many.display().to_string();
    let pgconn_args = ["status", "--targets", &many_file, "--json"];
    let pair = [Side::new(Tool::Pgconn, &pgconn_args, route), sides[0]];
    eprintln!(
        "psql_compare: status --targets vs the libpq floor, {FLEET_TARGETS} targets each, {runs} runs each"
    );
    let (p, f) = alternate(runs, |k| runner.measure(pair[k]))?;
    let (pgconn, floor, ratio) = compared(&p, &f);
    eprintln!(
        "psql_compare:   floor {FLEET_TARGETS} targets {:.1} ms, one {:.1} ms, ratio {:.3}; pgconn {:.1} ms vs \
         floor {:.1} ms, ratio {ratio:.3}",
        own.many.stats.wall_ms, own.one.stats.wall_ms, own.ratio, pgconn.wall_ms, floor.wall_ms
    );
    Ok(FleetFloor {
        own,
        pgconn,
        floor,
        ratio,
    })
}

/// `pgconn status --targets` of [`FLEET_TARGETS`] targets against one, through the proxy, at the
/// default `--jobs` and at [`FORMER_JOBS`].
fn compare_fleet(
    runner: &mut Runner,
    proxy: &LatencyProxy,
    meter: &Meter,
    runs: usize,
    files: &FleetFiles,
) -> Result<Vec<FleetRow>> {
    let (many, one) = (
        files.many.display().to_string(),
        files.one.display().to_string(),
    );
    // Every target answers, on its own connection.
    let out = runner.output(Tool::Pgconn, &["status", "--targets", &many, "--json"])?;
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let ok = v
        .as_array()
        .map(|a| a.iter().filter(|t| t["ok"] == true).count());
    if ok != Some(FLEET_TARGETS) {
        bail!("status --targets answered {ok:?} targets of {FLEET_TARGETS}: {out}");
    }
    let default_jobs = pgconn::fleet::DEFAULT_JOBS;
    let former = FORMER_JOBS.to_string();
    let by_default = ["status", "--targets", &many, "--json"];
    let at_former = ["status", "--targets", &many, "--json", "--jobs", &former];
    let one_args = ["status", "--targets", &one, "--json"];
    let mut cases = vec![(default_jobs, &by_default[..])];
    if FORMER_JOBS != default_jobs {
        cases.push((FORMER_JOBS, &at_former[..]));
    }
    let mut rows = Vec::new();
    for (jobs, many_args) in cases {
        let route = Route::Proxy(proxy.port);
        let sides = [
            Side::new(Tool::Pgconn, many_args, route),
            Side::new(Tool::Pgconn, &one_args, route),
        ];
        let trips = many_and_one_trips(runner, proxy, sides)?;
        eprintln!(
            "psql_compare: status --targets: {FLEET_TARGETS} targets (--jobs {jobs}) vs one, {} ms each \
             way, {runs} runs each",
            proxy.latency.as_millis()
        );
        let (a, b) = alternate(runs, |k| meter.around(|| runner.measure(sides[k])))?;
        let row = fleet_row(
            "`status --targets`".into(),
            jobs,
            [&a, &b],
            trips.map(Some),
            Some(FLEET_GOAL),
        );
        eprintln!(
            "psql_compare:   {FLEET_TARGETS} targets {:.1} ms, one {:.1} ms, ratio {:.3}; CPU ms: pgconn {:.1} \
             / {:.1}, server {:.1} / {:.1}, proxy {:.1} / {:.1}",
            row.many.stats.wall_ms,
            row.one.stats.wall_ms,
            row.ratio,
            row.many.stats.cpu_ms,
            row.one.stats.cpu_ms,
            row.many.cpu.server_ms,
            row.one.cpu.server_ms,
            row.many.cpu.proxy_ms,
            row.one.cpu.proxy_ms,
        );
        rows.push(row);
    }
    Ok(rows)
}

/// The round trips of one untimed run of each side (many targets first), checked to have opened
/// [`FLEET_TARGETS`] connections and one: distinct targets, each on its own connection.
fn many_and_one_trips(
    runner: &mut Runner,
    proxy: &LatencyProxy,
    sides: [Side; 2],
) -> Result<[Trips; 2]> {
    let trips = [
        count_round_trips(runner, proxy, sides[0])?,
        count_round_trips(runner, proxy, sides[1])?,
    ];
    if trips[0].connections != FLEET_TARGETS || trips[1].connections != 1 {
        bail!(
            "the proxy saw {} and {} connections of {:?}, not {FLEET_TARGETS} and 1",
            trips[0].connections,
            trips[1].connections,
            sides[0].tool
        );
    }
    Ok(trips)
}

/// A row from the two sides' runs (many first).
fn fleet_row(
    what: String,
    jobs: usize,
    runs: [&[(Sample, Cpu)]; 2],
    trips: [Option<Trips>; 2],
    goal: Option<f64>,
) -> FleetRow {
    let samples = |v: &[(Sample, Cpu)]| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let cpus = |v: &[(Sample, Cpu)]| v.iter().map(|(_, c)| *c).collect::<Vec<_>>();
    let (a, b) = (samples(runs[0]), samples(runs[1]));
    let (stats_a, stats_b, ratio) = compared(&a, &b);
    FleetRow {
        what,
        jobs,
        many: FleetSide {
            targets: FLEET_TARGETS,
            stats: stats_a,
            cpu: cpu_means(&cpus(runs[0])),
            trips: trips[0],
        },
        one: FleetSide {
            targets: 1,
            stats: stats_b,
            cpu: cpu_means(&cpus(runs[1])),
            trips: trips[1],
        },
        ratio,
        goal,
    }
}

/// A running `pgconn exporter` (the release binary) on a free port of 127.0.0.1, started from this
/// process with the runner's environment; killed on drop.
struct Exporter {
    child: std::process::Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Exporter {
    fn start(runner: &Runner, targets: &Path) -> Result<Exporter> {
        let file = targets.display().to_string();
        let args = ["exporter", "--targets", &file, "--listen", "127.0.0.1:0"];
        let mut child = runner
            .command(Tool::Pgconn, &args, Route::Socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting pgconn exporter")?;
        let err = child.stderr.take().context("the exporter's stderr")?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                // "info: listening on http://127.0.0.1:PORT/metrics (N targets)"
                if let Some(port) = line
                    .split("listening on http://")
                    .nth(1)
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
                let mut log = lines.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut e = Exporter {
            child,
            port: 0,
            log,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(port) => e.port = port,
            Err(_) => bail!(
                "pgconn exporter did not say where it listens within 30 s: {}",
                e.log()
            ),
        }
        Ok(e)
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// VmHWM of /proc/PID/status: the exporter's peak resident set so far, in KiB.
    fn peak_rss_kib(&self) -> Result<i64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmHWM in the exporter's /proc status")
    }

    /// One GET of `path`, checked; its wall time.
    fn scrape(&self, path: &str, targets: usize) -> Result<Duration> {
        scrape(self.port, path, targets)
            .with_context(|| format!("the exporter's log:\n{}", self.log()))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 GET on 127.0.0.1 (Connection: close): status code, body, and the wall time from
/// connecting to the end of the answer.
fn http_get(port: u16, path: &str) -> Result<(u16, String, Duration)> {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connecting to the exporter")?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let wall = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("GET {path}: not an HTTP answer: {text:?}"))?;
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("GET {path}: no status in {head:?}"))?;
    Ok((code, body.to_string(), wall))
}

/// GET `path` from the exporter and check that it answered 200 with `targets` samples of `pg_up`, all 1.
fn scrape(port: u16, path: &str, targets: usize) -> Result<Duration> {
    let (code, body, wall) = http_get(port, path)?;
    let up = pg_up(&body);
    if code != 200 || up.len() != targets || !up.iter().all(|&u| u) {
        bail!("GET {path}: {code}, pg_up samples {up:?}, expected {targets} of 1:\n{body}");
    }
    Ok(wall)
}

/// Whether each `pg_up` sample of an exposition is 1.
fn pg_up(text: &str) -> Vec<bool> {
    text.lines()
        .filter(|l| l.starts_with("pg_up ") || l.starts_with("pg_up{"))
        .map(|l| l.ends_with(" 1"))
        .collect()
}

/// Close a connection and wait (at most 5 s) until its backend has ended.
fn close(mut client: postgres::Client) {
    let pid: Option<i32> = client
        .query_one("SELECT pg_backend_pid()", &[])
        .ok()
        .map(|r| r.get(0));
    drop(client);
    let until = Instant::now() + Duration::from_secs(5);
    while let Some(pid) = pid {
        if !Path::new(&format!("/proc/{pid}")).exists() || Instant::now() > until {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The exporter's `/metrics` of [`FLEET_TARGETS`] targets against its `/probe` of one, through the proxy.
fn compare_metrics(
    runner: &Runner,
    proxy: &LatencyProxy,
    postmaster: i32,
    runs: usize,
    files: &FleetFiles,
) -> Result<FleetRow> {
    let e = Exporter::start(runner, &files.many)?;
    let meter = Meter {
        postmaster,
        exporter: Some(e.pid()),
    };
    let probe = "/probe?target=t01";
    let get = |path: &str, targets: usize| -> Result<(Sample, Cpu)> {
        proxy.take_round_trips();
        let (wall, cpu) = meter.around(|| e.scrape(path, targets))?;
        let (_, connections) = proxy.take_round_trips();
        // A request that shared an attempt still in flight would have made none.
        if connections != targets {
            bail!("GET {path} made {connections} connections through the proxy, not {targets}");
        }
        let sample = Sample {
            wall,
            cpu: cpu.exporter,
            max_rss_kib: e.peak_rss_kib()?,
        };
        Ok((sample, cpu))
    };
    eprintln!(
        "psql_compare: exporter /metrics of {FLEET_TARGETS} targets vs {probe}, {} ms each way, {runs} runs each",
        proxy.latency.as_millis()
    );
    let (a, b) = alternate(runs, |k| {
        if k == 0 {
            get("/metrics", FLEET_TARGETS)
        } else {
            get(probe, 1)
        }
    })?;
    let row = fleet_row(
        "`/metrics` vs `/probe`".into(),
        pgconn::fleet::DEFAULT_JOBS,
        [&a, &b],
        [None, None],
        Some(FLEET_GOAL),
    );
    eprintln!(
        "psql_compare:   /metrics {:.1} ms, /probe {:.1} ms, ratio {:.3}; CPU ms: exporter {:.1} / {:.1}, server \
         {:.1} / {:.1}, proxy {:.1} / {:.1}; exporter peak RSS {:.1} MiB",
        row.many.stats.wall_ms,
        row.one.stats.wall_ms,
        row.ratio,
        row.many.cpu.exporter_ms,
        row.one.cpu.exporter_ms,
        row.many.cpu.server_ms,
        row.one.cpu.server_ms,
        row.many.cpu.proxy_ms,
        row.one.cpu.proxy_ms,
        row.many.stats.max_rss_mib.max(row.one.stats.max_rss_mib),
    );
    Ok(row)
}

/// The exporter's `/probe` of the local cluster (unix socket) against `pgconn status --format prometheus`
/// run as a process, at `n` idle sessions; then the load. The exporter is started for these and stopped
/// after.
fn compare_probe(
    runner: &mut Runner,
    postmaster: i32,
    runs: usize,
    n: usize,
    files: &FleetFiles,
) -> Result<(ProbeRow, LoadReport)> {
    let e = Exporter::start(runner, &files.local)?;
    let probe = "/probe?target=local";
    let status = ["status", "--format", "prometheus"];
    let process = Side::new(Tool::Pgconn, &status, Route::Socket);
    // The same families either way: pg_up 1 from both.
    let text = runner.output(Tool::Pgconn, &status)?;
    if pg_up(&text) != [true] {
        bail!("pgconn status --format prometheus has not one `pg_up` of 1:\n{text}");
    }
    let meter = Meter {
        postmaster,
        exporter: Some(e.pid()),
    };
    eprintln!(
        "psql_compare: exporter {probe} vs pgconn status --format prometheus at {n} sessions, {runs} runs each"
    );
    let (a, b) = alternate(runs, |k| {
        if k == 0 {
            let (wall, cpu) = meter.around(|| e.scrape(probe, 1))?;
            let sample = Sample {
                wall,
                cpu: cpu.exporter,
                max_rss_kib: e.peak_rss_kib()?,
            };
            Ok((sample, cpu))
        } else {
            meter.around(|| runner.measure(process))
        }
    })?;
    let samples = |v: &[(Sample, Cpu)]| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let cpus = |v: &[(Sample, Cpu)]| v.iter().map(|(_, c)| *c).collect::<Vec<_>>();
    let (exporter, process, ratio) = compared(&samples(&a), &samples(&b));
    let row = ProbeRow {
        sessions: n,
        exporter,
        process,
        exporter_cpu: cpu_means(&cpus(&a)),
        process_cpu: cpu_means(&cpus(&b)),
        ratio,
    };
    eprintln!(
        "psql_compare:   /probe {:.1} ms ({:.1} ms exporter CPU), status {:.1} ms ({:.1} ms CPU), ratio {:.3}",
        row.exporter.wall_ms,
        row.exporter_cpu.exporter_ms,
        row.process.wall_ms,
        row.process.cpu_ms,
        row.ratio
    );
    let load = probe_load(runner, &e, probe, n)?;
    Ok((row, load))
}

/// [`LOAD_REQUESTS`] `/probe` requests from [`LOAD_CLIENTS`] clients at once, while a separate connection
/// counts the exporter's backends through `pg_stat_get_activity(NULL)` (not pg_stat_activity, whose join
/// with pg_database a lock could hold up) every [`LOAD_SAMPLE_EVERY`]; then how many are left, and the
/// exporter's peak resident set.
fn probe_load(runner: &Runner, e: &Exporter, probe: &str, n: usize) -> Result<LoadReport> {
    let count_sql =
        "SELECT count(*) FROM pg_stat_get_activity(NULL) a WHERE a.application_name = $1";
    let sessions_sql = "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'";
    let mut watcher =
        runner
            .cluster
            .connect(runner.cluster.superuser(), "postgres", "bench-watcher")?;
    // Nothing of an earlier pgconn still connected.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = watcher.query_one(count_sql, &[&EXPORTER_APP])?.get(0);
        if left == 0 {
            break;
        }
        if Instant::now() > until {
            bail!("{left} backends of application_name {EXPORTER_APP} before the load");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The sessions the server has counted before the load. A session is counted by the time its backend
    // has ended: this first watcher's before the reading, the reader's own and the second watcher's (which
    // connects after it) by the second reading; so the load's connections are the difference less 2.
    close(watcher);
    let sessions_before: Option<i64> = runner
        .cluster
        .psql(sessions_sql)
        .ok()
        .and_then(|t| t.trim().parse().ok());
    let mut watcher =
        runner
            .cluster
            .connect(runner.cluster.superuser(), "postgres", "bench-watcher")?;
    let stmt = watcher.prepare(count_sql)?;

    eprintln!(
        "psql_compare: {LOAD_REQUESTS} requests of {probe}, {LOAD_CLIENTS} at once, at {n} sessions"
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..LOAD_CLIENTS)
        .map(|_| {
            let (port, next, probe) = (e.port, Arc::clone(&next), probe.to_string());
            std::thread::spawn(move || {
                let mut out = Vec::new();
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < LOAD_REQUESTS {
                    out.push(scrape(port, &probe, 1).map_err(|e| format!("{e:#}")));
                }
                out
            })
        })
        .collect();
    let (mut samples, mut most) = (0usize, 0i64);
    let mut gone_after = None;
    let mut ended: Option<Instant> = None;
    let last = loop {
        let count: i64 = watcher.query_one(&stmt, &[&EXPORTER_APP])?.get(0);
        samples += 1;
        most = most.max(count);
        if ended.is_none() && clients.iter().all(|c| c.is_finished()) {
            ended = Some(Instant::now());
        }
        if let Some(end) = ended {
            if count == 0 {
                gone_after = Some(end.elapsed());
                break count;
            }
            if end.elapsed() > Duration::from_secs(5) {
                break count;
            }
        }
        std::thread::sleep(LOAD_SAMPLE_EVERY);
    };
    let wall = ended.unwrap_or_else(Instant::now) - started;
    let mut latencies = Vec::new();
    let (mut failed, mut first_failure) = (0, None);
    for c in clients {
        for r in c
            .join()
            .map_err(|_| anyhow::anyhow!("a load client panicked"))?
        {
            match r {
                Ok(d) => latencies.push(d.as_secs_f64() * 1e3),
                Err(e) => {
                    failed += 1;
                    first_failure.get_or_insert(e);
                }
            }
        }
    }
    drop(stmt);
    close(watcher);
    let connections = sessions_before.and_then(|before| {
        let after: i64 = runner
            .cluster
            .psql(sessions_sql)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(after - before - 2)
    });
    latencies.sort_by(f64::total_cmp);
    let p95 = latencies
        .get((latencies.len() * 95 / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN);
    let report = LoadReport {
        sessions: n,
        requests: LOAD_REQUESTS,
        clients: LOAD_CLIENTS,
        failed,
        first_failure,
        wall,
        median_ms: median(latencies),
        p95_ms: p95,
        samples,
        max_backends: most,
        left_after: last,
        gone_after,
        connections,
        peak_rss_mib: e.peak_rss_kib()? as f64 / 1024.0,
    };
    eprintln!(
        "psql_compare:   {:.2} s, {} failed; at most {} backends of the exporter in {} samples, {} left; {} \
         connections; peak RSS {:.1} MiB",
        report.wall.as_secs_f64(),
        report.failed,
        report.max_backends,
        report.samples,
        report.left_after,
        report
            .connections
            .map_or("? (no pg_stat_database.sessions)".into(), |c| c.to_string()),
        report.peak_rss_mib
    );
    if let Some(f) = &report.first_failure {
        eprintln!("psql_compare:   first failed request: {f}");
    }
    Ok(report)
}

fn find_psql(bindir: &Path) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PGCONN_BENCH_PSQL").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    // The real psql binary, not Debian's wrapper script (which adds a Perl start-up to every run).
    let mut candidates = vec![bindir.join("psql")];
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates
                .push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("psql"));
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort_by_key(|d| {
            d.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0)
        });
        candidates.extend(dirs.into_iter().rev().map(|d| d.join("bin/psql")));
    }
    candidates.push(PathBuf::from("/usr/bin/psql"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .context("cannot find psql; set PGCONN_BENCH_PSQL")
}

/// File descriptors for thousands of sessions in this process.
fn raise_nofile(want: u64) {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn machine() -> Vec<(&'static str, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "?".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".into());
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    vec![
        ("CPU", cpu),
        ("cores (nproc)", nproc),
        ("memory", mem),
        ("kernel", first_line("uname", &["-sr"])),
        ("load average at start", load_average()),
    ]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

fn git_commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let commit = first_line("git", &["-C", dir, "rev-parse", "--short=12", "HEAD"]);
    let dirty = Command::new("git")
        .args(["-C", dir, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("{commit} (with uncommitted changes)")
    } else {
        commit
    }
}

fn main() -> Result<()> {
    if std::env::var_os(LAUNCHER_ENV).is_some() {
        return launcher_main();
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not, and gets no 5,000-session run.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("psql_compare: a benchmark; run it with `cargo bench --bench psql_compare`");
        return Ok(());
    }
    let selection = Selection::from_env()?;
    if selection.partial() && std::env::var("PGCONN_BENCH_OUT").is_ok_and(|o| o != "-") {
        bail!("a partial run (PGCONN_BENCH_ONLY, PGCONN_BENCH_SIZES) writes no report: unset PGCONN_BENCH_OUT or set it to -");
    }
    let runs = env_usize("PGCONN_BENCH_RUNS", 31);
    let kill_runs = env_usize("PGCONN_BENCH_KILL_RUNS", 7);
    let latency = Duration::from_millis(
        std::env::var("PGCONN_BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    raise_nofile(selection.sizes.iter().max().copied().unwrap_or(SIZES[1]) as u64 + 1_000);
    let machine = machine();
    let floor = match build_floor() {
        Ok(path) => Ok(path),
        Err(e) => {
            eprintln!(
                "psql_compare: SKIPPING the libpq floor comparisons: {e:#}. The psql comparison runs as usual."
            );
            Err(format!("{e:#}"))
        }
    };
    let mut launcher = Launcher::start()?;
    let rss_floor_kib = {
        let stderr = std::env::temp_dir().join(format!("psql-compare-{}", std::process::id()));
        let r = launcher.run(&Command::new("/bin/true"), &stderr);
        let _ = std::fs::remove_file(&stderr);
        r?.0.max_rss_kib
    };

    // TCP on 127.0.0.1 (a free port; the sandbox's pg_hba.conf trusts 127.0.0.1 as it trusts the socket)
    // for the latency proxy; everything else goes through the unix socket.
    eprintln!("psql_compare: starting a cluster with max_connections 5200");
    let cluster = Cluster::start(&ClusterOptions {
        max_connections: 5_200,
        tcp: true,
        ..ClusterOptions::default()
    })?;
    let psql = find_psql(cluster.bindir())?;
    let stderr = cluster.root_dir().join("bench-stderr");
    let mut runner = Runner {
        cluster,
        psql,
        floor: floor.as_ref().ok().cloned(),
        stderr,
        launcher,
    };
    runner.cluster.psql(&format!("CREATE ROLE {ROLE} LOGIN"))?;
    let server_version = runner.cluster.psql("SHOW server_version")?;
    let psql_version = first_line(&runner.psql.display().to_string(), &["--version"]);
    let pgconn_version = first_line(PGCONN, &["--version"]);
    // What starting each program costs before it connects: the floor without arguments loads libpq and the
    // libraries it links, prints its usage and exits; pgconn --version.
    let pgconn_start = start_up(&mut runner, Path::new(PGCONN), &["--version"])?;
    let floor_start = match runner.floor.clone() {
        Some(floor) => Some(start_up(&mut runner, &floor, &[])?),
        None => None,
    };
    eprintln!("psql_compare: pgconn --version against psql --version, {runs} runs each");
    let start = compare_start(&mut runner, runs)?;
    eprintln!(
        "psql_compare:   pgconn {:.1} ms, psql {:.1} ms, ratio {:.3}",
        start.0.wall_ms, start.1.wall_ms, start.2
    );
    let package = package();

    // The floor's statements, from pgconn's own echo, and the proxy in front of the cluster's TCP port.
    let mut floor_report = FloorReport {
        skipped: floor.as_ref().err().cloned(),
        latency,
        cases: Vec::new(),
        local: Vec::new(),
        proxied: Vec::new(),
        view: Vec::new(),
        explained: Vec::new(),
        blocked_by: Vec::new(),
    };
    if runner.floor.is_some() {
        for (what, pgconn_args, psql_sql) in FLOOR_COMMANDS {
            if !selection.wants(what) {
                continue;
            }
            let case = floor_case(&runner, what, pgconn_args, psql_sql)?;
            eprintln!(
                "psql_compare: pgconn {} sends {} statement(s): {}; the floor runs the last{}",
                pgconn_args.join(" "),
                case.sent.len(),
                case.sent.join(" | "),
                if case.fallback.is_some() {
                    " (rebuilding it failed: the psql statement instead)"
                } else {
                    ""
                }
            );
            floor_report.cases.push(case);
        }
    }
    let tcp_port = runner
        .cluster
        .tcp_port()
        .context("the cluster does not listen on TCP")?;
    let proxy = LatencyProxy::start(SocketAddr::from(([127, 0, 0, 1], tcp_port)), latency)?;
    eprintln!(
        "psql_compare: latency proxy on 127.0.0.1:{} -> 127.0.0.1:{tcp_port}, {} ms each way",
        proxy.port,
        latency.as_millis()
    );

    // Many targets, before any idle session is opened: each target's snapshot is a few rows, so what is
    // measured is the scheduling across targets, the server's connection set-up and the proxy's relays.
    let postmaster = postmaster_pid(&runner.cluster)?;
    let files = fleet_files(&runner.cluster, proxy.port)?;
    let meter = Meter {
        postmaster,
        exporter: None,
    };
    let fleet_status = if selection.wants("fleet") {
        compare_fleet(&mut runner, &proxy, &meter, runs, &files)?
    } else {
        Vec::new()
    };
    let mut fleet_report = FleetReport {
        latency,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        status: fleet_status,
        metrics: None,
        probe: None,
        load: None,
        floor: None,
    };
    if let Some(case) = floor_report
        .cases
        .iter()
        .find(|c| c.what == "status")
        .filter(|_| selection.wants("fleet"))
    {
        let sql = case.sql.clone();
        fleet_report.floor = Some(compare_fleet_floor(
            &mut runner,
            &proxy,
            &meter,
            runs,
            &files,
            &sql,
        )?);
    }
    if selection.wants("fleet") {
        fleet_report.metrics = Some(compare_metrics(&runner, &proxy, postmaster, runs, &files)?);
    }

    let mut rows = Vec::new();
    let mut w = Workload::new();
    for n in selection.sizes.iter().copied() {
        let more = n - w.len();
        eprintln!("psql_compare: opening {more} more idle sessions ({n} in all)");
        let t = Instant::now();
        w.idle(&runner.cluster, more, ROLE, "postgres", APP)?;
        runner.wait_sessions(n as i64)?;
        eprintln!("psql_compare:   took {:.1} s", t.elapsed().as_secs_f64());

        // Both tools see every session.
        let v: serde_json::Value =
            serde_json::from_str(&runner.output(Tool::Pgconn, &["sessions", "--json"])?)?;
        if v["count"].as_u64() != Some(n as u64) {
            bail!("pgconn sessions saw {} sessions, not {n}", v["count"]);
        }
        let psql_rows = runner
            .output(Tool::Psql, &["-t", "-c", PSQL_SESSIONS])?
            .lines()
            .count();
        if psql_rows != n {
            bail!("psql listed {psql_rows} sessions, not {n}");
        }

        for (what, pgconn_args, psql_sql) in [
            ("status", ["status", "--json"], PSQL_STATUS),
            ("sessions", ["sessions", "--json"], PSQL_SESSIONS),
        ] {
            if !selection.wants(what) {
                continue;
            }
            eprintln!("psql_compare: {what} at {n} sessions, {runs} runs each");
            let (a, b, paired_ratio) = compare(
                &mut runner,
                runs,
                Side::new(Tool::Pgconn, &pgconn_args, Route::Socket),
                Side::new(Tool::Psql, &["-c", psql_sql], Route::Socket),
            )?;
            let row = Row {
                what,
                sessions: n,
                pgconn: a,
                psql: b,
                paired_ratio,
                goal_ratio: 1.0,
            };
            eprintln!(
                "psql_compare:   pgconn {:.1} ms, psql {:.1} ms, ratio {:.3}; peak RSS {:.1} / {:.1} MiB",
                a.wall_ms,
                b.wall_ms,
                row.ratio(),
                a.max_rss_mib,
                b.max_rss_mib
            );
            rows.push(row);
        }

        if runner.floor.is_some() {
            compare_floor(&mut runner, &proxy, runs, n, &mut floor_report)?;
            compare_view(&mut runner, runs, n, &selection, &mut floor_report)?;
            if n == SIZES[0] && selection.wants("blocked_by") {
                compare_blocked_by(&mut runner, runs, n, &mut floor_report)?;
            }
        }

        // The exporter at the smaller size: /probe against the process, then the load.
        if n == SIZES[0] && selection.wants("exporter") {
            let (probe, load) = compare_probe(&mut runner, postmaster, runs, n, &files)?;
            fleet_report.probe = Some(probe);
            fleet_report.load = Some(load);
        }
    }
    w.close();
    runner.wait_sessions(0)?;

    if selection.partial() {
        if selection.wants("kill-idle") {
            let n = SIZES[0];
            eprintln!("psql_compare: kill-idle at {n} sessions, {kill_runs} runs each");
            let (a, b, ratio) = compare_kill(&mut runner, kill_runs, n)?;
            eprintln!(
                "psql_compare:   pgconn {:.1} ms, psql {:.1} ms, ratio {ratio:.3}",
                a.wall_ms, b.wall_ms
            );
        }
        if selection.wants("route") {
            let r = emergency_route(&mut runner, runs)?;
            eprintln!(
                "psql_compare:   status over the emergency route {:.1} ms, over a normal connection {:.1} ms",
                r.emergency.wall_ms, r.normal.wall_ms
            );
        }
        eprintln!("psql_compare: a partial run (PGCONN_BENCH_ONLY, PGCONN_BENCH_SIZES): no report written");
        return Ok(());
    }

    let n = SIZES[0];
    eprintln!("psql_compare: kill-idle at {n} sessions, {kill_runs} runs each");
    let (a, b, paired_ratio) = compare_kill(&mut runner, kill_runs, n)?;
    let row = Row {
        what: "kill-idle",
        sessions: n,
        pgconn: a,
        psql: b,
        paired_ratio,
        goal_ratio: 1.2,
    };
    eprintln!(
        "psql_compare:   pgconn {:.1} ms, psql {:.1} ms, ratio {:.3}; peak RSS {:.1} / {:.1} MiB",
        a.wall_ms,
        b.wall_ms,
        row.ratio(),
        a.max_rss_mib,
        b.max_rss_mib
    );
    rows.push(row);

    let route = emergency_route(&mut runner, runs)?;

    let report = report(
        &rows,
        &machine,
        &[
            ("PostgreSQL server", server_version.trim().to_string()),
            (
                "psql",
                format!("{} ({})", psql_version, runner.psql.display()),
            ),
            (
                "pgconn",
                format!("{pgconn_version}, commit {}", git_commit()),
            ),
            ("load average at end", load_average()),
            (
                "peak RSS floor (what /bin/true reports when started the same way)",
                format!("{:.1} MiB", rss_floor_kib as f64 / 1024.0),
            ),
            (
                "start-up before connecting (median of 11)",
                format!(
                    "pgconn --version {:.1} ms wall, {:.1} ms CPU; floor without arguments {}",
                    pgconn_start.0,
                    pgconn_start.1,
                    floor_start
                        .map(|(wall, cpu)| format!("{wall:.1} ms wall, {cpu:.1} ms CPU"))
                        .unwrap_or_else(|| "not built".into())
                ),
            ),
            (
                "libpq (the floor's, from pg_config)",
                first_line("pg_config", &["--version"]),
            ),
            (
                "C compiler (the floor's)",
                first_line(
                    &std::env::var("PGCONN_BENCH_CC").unwrap_or_else(|_| "cc".into()),
                    &["--version"],
                ),
            ),
        ],
        &floor_report,
        &route,
        &fleet_report,
        (runs, kill_runs),
    );
    // Last: what starting pgconn costs against psql, and the Debian package.
    let mut report = report;
    start_and_package(&mut report, &start, &package);
    print!("{report}");
    let out = std::env::var("PGCONN_BENCH_OUT")
        .unwrap_or_else(|_| format!("{}/BENCHMARKS.md", env!("CARGO_MANIFEST_DIR")));
    if out != "-" {
        std::fs::write(&out, &report).with_context(|| format!("writing {out}"))?;
        eprintln!("psql_compare: wrote {out}");
    }
    Ok(())
}

/// `status` over the emergency route on a full server, and over a normal connection once slots are free.
struct RouteRow {
    max_connections: u32,
    sessions: usize,
    emergency: Stats,
    normal: Stats,
}

/// Fill a cluster of its own completely (an ordinary role until it is refused, then the superuser until
/// it is too), time `status` through the WAL sender slot, free the superuser's slots, time it again over
/// a normal connection. The runner's cluster is swapped for that one meanwhile.
fn emergency_route(runner: &mut Runner, runs: usize) -> Result<RouteRow> {
    const MAX: u32 = 1_003;
    eprintln!("psql_compare: the emergency route: a full cluster with max_connections {MAX}");
    let full = Cluster::start(&ClusterOptions {
        max_connections: MAX,
        superuser_reserved_connections: Some(3),
        ..ClusterOptions::default()
    })?;
    full.psql(&format!("CREATE ROLE {ROLE} LOGIN"))?;
    let saved = std::mem::replace(&mut runner.cluster, full);
    let result = (|| -> Result<RouteRow> {
        let mut ordinary = Workload::new();
        let mut superuser = Workload::new();
        let (n, _) = ordinary.fill(&runner.cluster, ROLE, "postgres", APP)?;
        let (m, refusal) =
            superuser.fill(&runner.cluster, "postgres", "postgres", "bench-admin")?;
        if refusal != "sorry, too many clients already" {
            bail!("the cluster is not full: {refusal}");
        }
        let via = |runner: &Runner| -> Result<String> {
            let v: serde_json::Value =
                serde_json::from_str(&runner.output(Tool::Pgconn, &["status", "--json"])?)?;
            Ok(v["connection"]["via"].as_str().unwrap_or("").to_string())
        };
        if via(runner)? != "replication" {
            bail!("status on the full cluster did not take the emergency route");
        }
        let side = Side::new(Tool::Pgconn, &["status", "--json"], Route::Socket);
        runner.measure(side)?;
        let emergency: Vec<Sample> = (0..runs)
            .map(|_| runner.measure(side))
            .collect::<Result<_>>()?;
        superuser.close();
        std::thread::sleep(Duration::from_millis(200));
        if via(runner)? != "normal" {
            bail!("status with free slots did not get a normal connection");
        }
        runner.measure(side)?;
        let normal: Vec<Sample> = (0..runs)
            .map(|_| runner.measure(side))
            .collect::<Result<_>>()?;
        let row = RouteRow {
            max_connections: MAX,
            sessions: n + m,
            emergency: stats(&emergency),
            normal: stats(&normal),
        };
        eprintln!(
            "psql_compare:   via a WAL sender slot {:.1} ms, normal {:.1} ms, ratio {:.2}",
            row.emergency.wall_ms,
            row.normal.wall_ms,
            row.emergency.wall_ms / row.normal.wall_ms
        );
        ordinary.close();
        Ok(row)
    })();
    drop(std::mem::replace(&mut runner.cluster, saved));
    result
}

fn report(
    rows: &[Row],
    machine: &[(&str, String)],
    versions: &[(&str, String)],
    floor: &FloorReport,
    route: &RouteRow,
    fleet: &FleetReport,
    // Timed runs of each comparison, and of kill-idle's.
    (runs, kill_runs): (usize, usize),
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks: pgconn against psql and the libpq floor\n");
    let _ = writeln!(
        s,
        "Generated by `cargo bench --bench psql_compare`; do not edit by hand. Each command runs as its own \
         process against a throwaway local cluster (unix socket, max_connections 5200) holding 1,000 or 5,000 \
         idle sessions of an ordinary role. The two programs compared alternate (who goes first swaps every \
         run) after one untimed warm-up each; times are medians of {runs} runs ({kill_runs} for kill-idle, \
         whose sessions are re-opened before every run). The ratio is the median over the runs of pgconn's \
         time divided by that of the other program's run next to it, which cancels most of the drift in the \
         machine's load. Peak memory is the largest maximum resident set size of any run (wait4 rusage). CPU \
         is user + system time of the client process only; the server does most of the work for both.\n"
    );
    let _ = writeln!(
        s,
        "`PGCONN_BENCH_RUNS` sets the number of timed runs (e.g. `PGCONN_BENCH_RUNS=5 cargo bench --bench \
         psql_compare` for a quick run), `PGCONN_BENCH_KILL_RUNS` those of kill-idle and \
         `PGCONN_BENCH_LATENCY_MS` the proxy's one-way latency (default 20). The floor comparisons need a C \
         compiler and libpq's header (`apt-get install -y libpq-dev`); without them they are skipped and \
         say so below.\n"
    );
    let _ = writeln!(s, "## pgconn vs psql (local)\n");
    let _ = writeln!(
        s,
        "| command | sessions | pgconn wall ms | psql wall ms | ratio | goal | pgconn CPU ms | psql CPU ms | pgconn peak RSS MiB | psql peak RSS MiB |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let met = if r.ratio() <= r.goal_ratio {
            "met"
        } else {
            "**missed**"
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {:.3} | ≤ {:.1} {met} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.what,
            fmt_int(r.sessions),
            r.pgconn.wall_ms,
            r.psql.wall_ms,
            r.ratio(),
            r.goal_ratio,
            r.pgconn.cpu_ms,
            r.psql.cpu_ms,
            r.pgconn.max_rss_mib,
            r.psql.max_rss_mib,
        );
    }

    floor_tables(&mut s, floor);

    let _ = writeln!(s, "\n## The emergency route (a WAL sender slot)\n");
    let _ = writeln!(
        s,
        "A second cluster (max_connections {max}, 3 reserved for superusers) filled completely: {n} idle \
         sessions, every slot taken, so that even a superuser gets `sorry, too many clients already`. \
         `pgconn status --json` is refused a normal connection and gets in through a WAL sender slot \
         (`--break-glass auto`, the default); then the 3 superuser sessions are closed and the same command \
         gets a normal connection on the same server. Medians of {runs} runs each (the two cannot \
         alternate: the server is full for one and not for the other); the ratio is of the medians.\n",
        max = route.max_connections,
        n = fmt_int(route.sessions),
    );
    let _ = writeln!(
        s,
        "| status | sessions | wall ms | CPU ms | peak RSS MiB |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (what, st, n) in [
        (
            "full server, via a WAL sender slot",
            &route.emergency,
            route.sessions,
        ),
        (
            "free slots, normal connection",
            &route.normal,
            route.sessions - 3,
        ),
    ] {
        let _ = writeln!(
            s,
            "| {what} | {} | {:.1} | {:.1} | {:.1} |",
            fmt_int(n),
            st.wall_ms,
            st.cpu_ms,
            st.max_rss_mib
        );
    }

    fleet_tables(&mut s, fleet);

    let _ = writeln!(s, "\n## Goals\n");
    let route_ratio = route.emergency.wall_ms / route.normal.wall_ms;
    let _ = writeln!(
        s,
        "- `status` on a full server of {} sessions, via a WAL sender slot: {route_ratio:.2} × a normal \
         connection on the same server with free slots (goal ≤ 2): {}",
        fmt_int(route.sessions),
        if route_ratio <= 2.0 { "met" } else { "**missed**" }
    );
    let (small, large) = (SIZES[0], SIZES[1]);
    let factor = large as f64 / small as f64;
    for what in ["status", "sessions"] {
        let at = |n| rows.iter().find(|r| r.what == what && r.sessions == n);
        if let (Some(a), Some(b)) = (at(small), at(large)) {
            let growth = b.pgconn.wall_ms / a.pgconn.wall_ms;
            let psql_growth = b.psql.wall_ms / a.psql.wall_ms;
            let per_session_us =
                (b.pgconn.wall_ms - a.pgconn.wall_ms) * 1e3 / (large - small) as f64;
            let _ = writeln!(
                s,
                "- `{what}` from {} to {} sessions: wall time × {growth:.2} (psql × {psql_growth:.2}), \
                 {per_session_us:.1} µs per extra session; linear would be × {factor:.0}: {}",
                fmt_int(small),
                fmt_int(large),
                if growth <= factor { "met" } else { "**missed**" }
            );
        }
    }
    let peak = rows
        .iter()
        .filter(|r| r.sessions == large)
        .map(|r| r.pgconn.max_rss_mib)
        .fold(0.0, f64::max);
    let _ = writeln!(
        s,
        "- pgconn peak memory at {} sessions: {peak:.1} MiB (goal ≤ 20 MiB): {}",
        fmt_int(large),
        if peak <= 20.0 { "met" } else { "**missed**" }
    );
    for r in rows {
        let _ = writeln!(
            s,
            "- `{}` at {}: {:.3} × psql (goal ≤ {:.1}): {}",
            r.what,
            fmt_int(r.sessions),
            r.ratio(),
            r.goal_ratio,
            if r.ratio() <= r.goal_ratio {
                "met"
            } else {
                "**missed**"
            }
        );
    }

    for r in floor.local.iter().chain(&floor.proxied) {
        let route = if r.round_trips.is_some() {
            format!("{} ms each way", floor.latency.as_millis())
        } else {
            "local".into()
        };
        let _ = writeln!(
            s,
            "- `{}` at {} ({route}): {:.3} × the libpq floor (goal ≤ {:.2}): {}",
            r.what,
            fmt_int(r.sessions),
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            }
        );
    }
    for r in &floor.view {
        let sql = VIEW_FLOOR
            .iter()
            .find(|(what, ..)| *what == r.what)
            .map_or("", |(_, _, sql)| sql);
        let _ = writeln!(
            s,
            "- `{}` at {}: {:.3} × the libpq floor running `{sql}` (goal ≤ {:.2}): {}",
            r.what,
            fmt_int(r.sessions),
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            }
        );
    }
    if let Some(why) = &floor.skipped {
        let _ = writeln!(s, "- pgconn against the libpq floor: not measured ({why})");
    }
    fleet_goals(&mut s, fleet);

    let _ = writeln!(s, "\n## Machine and versions\n");
    for (k, v) in machine.iter().chain(versions.iter()) {
        let _ = writeln!(s, "- {k}: {v}");
    }

    let _ = writeln!(s, "\n## Commands\n");
    let _ = writeln!(
        s,
        "pgconn: `pgconn status --json`, `pgconn sessions --json`, `pgconn kill-idle --older-than 0s --yes` \
         (stdout to /dev/null). psql: `psql -X -q -A -v ON_ERROR_STOP=1 -c SQL` with these statements:\n"
    );
    for (what, sql) in [
        ("status", PSQL_STATUS),
        ("sessions", PSQL_SESSIONS),
        ("kill-idle", PSQL_KILL),
    ] {
        let _ = writeln!(s, "{what}:\n\n```sql\n{sql}\n```\n");
    }
    let _ = writeln!(
        s,
        "Many targets: `pgconn status --targets FILE --json` (FILE of {FLEET_TARGETS} lines or of its first), \
         with `--jobs {FORMER_JOBS}` added for the row at the former default; `pgconn exporter --targets \
         FILE --listen 127.0.0.1:0`, asked `GET /metrics`, `GET /probe?target=t01` and `GET \
         /probe?target=local`, against `pgconn status --format prometheus`.\n"
    );
    if !floor.cases.is_empty() {
        let _ = writeln!(
            s,
            "The libpq floor: `floor SQL` (`benches/floor.c`, built with `cc -O2 floor.c \
             -I$(pg_config --includedir) -lpq`), connecting from the same PG* environment as pgconn, with \
             these statements (pgconn's own, parameters written in as literals):\n"
        );
        for case in &floor.cases {
            let _ = writeln!(
                s,
                "<details><summary>{} (for <code>pgconn {}</code>)</summary>\n\n```sql\n{}\n```\n\n</details>\n",
                case.what,
                case.pgconn_args.join(" "),
                case.sql.trim_end()
            );
        }
    }
    s
}

/// Which of the CPU consumers bounds a many-target run's time beyond one target's, or the waves.
fn limited_by(row: &FleetRow, client: &str, client_ms: f64, cores: usize) -> String {
    let extra = row.many.stats.wall_ms - row.one.stats.wall_ms;
    let waves = row.many.targets.div_ceil(row.jobs.max(1));
    let parts = [
        (client, client_ms),
        ("server", row.many.cpu.server_ms),
        ("proxy", row.many.cpu.proxy_ms),
    ];
    let sum: f64 = parts.iter().map(|(_, ms)| ms).sum();
    let least = sum / cores as f64;
    let (name, most) = parts
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(("?", 0.0));
    if waves > 1 {
        format!(
            "{waves} waves of --jobs {}: each costs about one target's wall time",
            row.jobs
        )
    } else if extra <= 0.0 {
        "nothing: no slower than one target".into()
    } else if least >= extra / 2.0 {
        format!(
            "CPU, most of it the {name}'s ({most:.0} of {sum:.0} ms: at least {least:.0} ms on {cores} \
             cores, {:.1}× one target's wall time, against {extra:.0} ms beyond one target)",
            least / row.one.stats.wall_ms
        )
    } else {
        format!(
            "not CPU alone ({sum:.0} ms of CPU, at least {least:.0} ms on {cores} cores, against {extra:.0} ms \
             beyond one target; the largest is the {name}'s, {most:.0} ms)"
        )
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// Many targets, the exporter, and the load.
fn fleet_tables(s: &mut String, fleet: &FleetReport) {
    let ms = fleet.latency.as_millis();
    let jobs = pgconn::fleet::DEFAULT_JOBS;
    let _ = writeln!(s, "\n## Many targets and the exporter ({ms} ms each way)\n");
    let _ = writeln!(
        s,
        "`pgconn status --targets FILE --json` with {FLEET_TARGETS} targets against the same with one, both \
         through the latency proxy above, run before any idle session is opened: each target's snapshot \
         is a few rows, so what is measured is how the targets are scheduled, not the size of a snapshot. \
         The {FLEET_TARGETS} lines of the file name the proxy's address, each with a name and an \
         application_name of its own (`t01: host=127.0.0.1 port=PROXY user=postgres dbname=postgres \
         application_name=bench-fleet-01`), so they are {FLEET_TARGETS} targets on {FLEET_TARGETS} \
         connections (the proxy counted them in an untimed run); the one-target file is the first line. \
         Goal: {FLEET_TARGETS} targets ≤ {FLEET_GOAL:.1}× one.\n"
    );
    let _ = writeln!(
        s,
        "`--jobs` defaults to {jobs}. At {FORMER_JOBS}, the default before, {FLEET_TARGETS} targets take two \
         waves, and each wave costs about one target's wall time (the row with `--jobs {FORMER_JOBS}` \
         shows it); at {jobs}, a targets file of up to {jobs} lines is connected at once. The bound is as \
         hard as before (a connection attempt given up on counts until its socket is closed) and each \
         connection as short (one statement, then closed); {jobs} threads and sockets cost pgconn little. \
         Where the targets are many databases of one server, as here, that server is asked for up to {jobs} \
         connections at once: a lower `--jobs` is the way to spare it.\n"
    );
    let _ = writeln!(
        s,
        "Next to each ratio, the CPU of everything the run needed on this machine's {} cores: pgconn's \
         (the process's, from wait4: median per run, and per target), the server's (the postmaster and \
         all its processes, the backends of the run included, which ended and were reaped: utime + stime \
         from /proc, mean per run, since those tick in 10 ms steps) and the proxy's (the threads of this \
         benchmark process, which relay every connection: getrusage, mean per run). Their sum over the \
         cores is the least wall time the CPU allows; \"limited by\" names what bounds the many-target \
         run's time beyond the one-target run's.\n",
        fleet.cores
    );
    let _ = writeln!(
        s,
        "| run | targets | --jobs | wall ms | ratio | goal | pgconn CPU ms | pgconn CPU per target ms | server CPU ms | proxy CPU ms | CPU sum / cores ms | round trips per target | limited by |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    let floor_row = fleet.floor.as_ref().map(|f| &f.own);
    for r in fleet.status.iter().chain(floor_row) {
        let goal = match r.goal {
            Some(g) => format!("≤ {g:.1} {}", met(r.ratio <= g)),
            None => "–".into(),
        };
        let client = if floor_row.is_some_and(|f| std::ptr::eq(f, r)) {
            "floor"
        } else {
            "pgconn"
        };
        for (side, ratio, goal, limit) in [
            (
                &r.many,
                format!("{:.3}", r.ratio),
                goal,
                limited_by(r, client, r.many.stats.cpu_ms, fleet.cores),
            ),
            (&r.one, "(paired)".into(), String::new(), String::new()),
        ] {
            let sum = side.stats.cpu_ms + side.cpu.server_ms + side.cpu.proxy_ms;
            let trips = side
                .trips
                .map(|t| format!("{:.1}", t.round_trips as f64 / side.targets as f64))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1} | {ratio} | {goal} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {trips} | {limit} |",
                r.what,
                side.targets,
                r.jobs,
                side.stats.wall_ms,
                side.stats.cpu_ms,
                side.stats.cpu_ms / side.targets as f64,
                side.cpu.server_ms,
                side.cpu.proxy_ms,
                sum / fleet.cores as f64,
            );
        }
    }

    if let Some(f) = &fleet.floor {
        let _ = writeln!(
            s,
            "\nThe last two rows are the libpq floor (`benches/floor.c`) given the same {FLEET_TARGETS} targets \
             (their conninfos, through the proxy), one thread per target, all started at once, each running \
             pgconn's status statement: the least any client can do for {FLEET_TARGETS} targets on this \
             machine, whatever its scheduling (its \"pgconn CPU\" columns are the floor's own). The floor \
             itself takes {:.3}× one target, so what limits {FLEET_TARGETS} targets against one here is not \
             pgconn. Run by turns with the floor's {FLEET_TARGETS} targets, pgconn's `status --targets` took \
             {:.1} ms against the floor's {:.1} ms (median of the paired ratios: **{:.3}×**).",
            f.own.ratio, f.pgconn.wall_ms, f.floor.wall_ms, f.ratio
        );
    }

    let _ = writeln!(s, "\n### The exporter\n");
    let _ = writeln!(
        s,
        "`pgconn exporter` (the release binary) with a targets file, on a free port of 127.0.0.1, asked \
         by a minimal HTTP/1.1 client in this benchmark (GET, `Connection: close`; wall time from \
         connecting to the end of the answer; every answer checked to be 200 with `pg_up 1` for each \
         target). The exporter's CPU is its process's, every thread, from /proc (mean per request); its \
         peak RSS is VmHWM from /proc/PID/status.\n"
    );
    let _ = writeln!(
        s,
        "- `/probe?target=local` (the cluster over its unix socket, `local: host=SOCKET_DIR port=PORT \
         user=postgres dbname=postgres`) against `pgconn status --format prometheus` run as a process over \
         the same socket, at {} idle sessions: the same statement; the process pays its start, the \
         exporter the HTTP exchange and a transaction around the statement that sets its timeouts. Goal \
         ≤ {PROBE_GOAL:.1}×.",
        fleet
            .probe
            .as_ref()
            .map_or("?".into(), |p| fmt_int(p.sessions))
    );
    let _ = writeln!(
        s,
        "- `/metrics` of the {FLEET_TARGETS} targets above against `/probe?target=t01`, one of them, through \
         the proxy, before the idle sessions are opened (as for `status --targets`), at the default `--jobs` \
         ({jobs}). The proxy counted {FLEET_TARGETS} and 1 connections for every request: no answer was \
         shared with an attempt in flight. Goal ≤ {FLEET_GOAL:.1}×.\n"
    );
    let _ = writeln!(
        s,
        "| comparison | sessions | exporter wall ms | other wall ms | ratio | goal | exporter CPU ms | other CPU ms | server CPU ms (exporter / other) | proxy CPU ms (exporter / other) | exporter peak RSS MiB | limited by |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    if let Some(p) = &fleet.probe {
        let _ = writeln!(
            s,
            "| `/probe` vs `pgconn status --format prometheus` (process) | {} | {:.1} | {:.1} | {:.3} | ≤ {PROBE_GOAL:.1} {} | {:.1} | {:.1} | {:.1} / {:.1} | – | {:.1} | |",
            fmt_int(p.sessions),
            p.exporter.wall_ms,
            p.process.wall_ms,
            p.ratio,
            met(p.ratio <= PROBE_GOAL),
            p.exporter_cpu.exporter_ms,
            p.process.cpu_ms,
            p.exporter_cpu.server_ms,
            p.process_cpu.server_ms,
            p.exporter.max_rss_mib,
        );
    }
    if let Some(m) = &fleet.metrics {
        let _ = writeln!(
            s,
            "| {} ({FLEET_TARGETS} targets against one), {ms} ms each way | few | {:.1} | {:.1} | {:.3} | ≤ {FLEET_GOAL:.1} {} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} | {} |",
            m.what,
            m.many.stats.wall_ms,
            m.one.stats.wall_ms,
            m.ratio,
            met(m.ratio <= FLEET_GOAL),
            m.many.cpu.exporter_ms,
            m.one.cpu.exporter_ms,
            m.many.cpu.server_ms,
            m.one.cpu.server_ms,
            m.many.cpu.proxy_ms,
            m.one.cpu.proxy_ms,
            m.many.stats.max_rss_mib.max(m.one.stats.max_rss_mib),
            limited_by(m, "exporter", m.many.cpu.exporter_ms, fleet.cores),
        );
    }

    let Some(l) = &fleet.load else { return };
    let _ = writeln!(
        s,
        "\n### {} `/probe` requests, {} at once\n",
        fmt_int(l.requests),
        l.clients
    );
    let _ = writeln!(
        s,
        "{} clients each send their next request once the last is answered, {} in all, to the exporter \
         above (`/probe?target=local`, {} idle sessions). Meanwhile a separate connection counts the \
         exporter's backends, `SELECT count(*) FROM pg_stat_get_activity(NULL) a WHERE a.application_name \
         = '{EXPORTER_APP}'` (its connections' application_name, pgconn's default), every {} ms, and goes \
         on after the last answer until it sees none (at most 5 s). `pg_stat_get_activity(NULL)`, not \
         pg_stat_activity, whose join with pg_database a lock could hold up; a backend shows there once it \
         has authenticated, and leaves it when its process ends, a moment after the exporter closed the \
         connection. A request for a target whose scrape is in flight waits for it and shares its answer, \
         and a new scrape connects only once the last one's connection is closed, so the exporter never \
         holds two; a sample can still catch the last scrape's backend on its way out beside the next \
         one's (on a loaded machine its exit may wait for a CPU). The connections the exporter opened are \
         the difference in `pg_stat_database.sessions` over the load.\n",
        l.clients,
        fmt_int(l.requests),
        fmt_int(l.sessions),
        LOAD_SAMPLE_EVERY.as_millis()
    );
    let _ = writeln!(
        s,
        "| requests | clients | failed | wall s | requests/s | median ms | p95 ms | samples | most exporter backends at once | left after | gone after ms | connections opened | exporter peak RSS MiB |"
    );
    let _ = writeln!(
        s,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let _ = writeln!(
        s,
        "| {} | {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {:.1} |",
        fmt_int(l.requests),
        l.clients,
        l.failed,
        l.wall.as_secs_f64(),
        l.requests as f64 / l.wall.as_secs_f64(),
        l.median_ms,
        l.p95_ms,
        fmt_int(l.samples),
        l.max_backends,
        l.left_after,
        l.gone_after
            .map_or("–".into(), |d| format!("{:.0}", d.as_secs_f64() * 1e3)),
        l.connections.map_or("?".into(), |c| fmt_int(c as usize)),
        l.peak_rss_mib,
    );
    if let Some(f) = &l.first_failure {
        let _ = writeln!(s, "\nThe first failed request: {f}");
    }
}

/// The goals of the fleet and exporter comparisons.
fn fleet_goals(s: &mut String, fleet: &FleetReport) {
    let ms = fleet.latency.as_millis();
    for r in &fleet.status {
        match r.goal {
            Some(g) if r.jobs == pgconn::fleet::DEFAULT_JOBS => {
                let _ = writeln!(
                    s,
                    "- `status --targets` of {FLEET_TARGETS} targets ({ms} ms each way, --jobs {}): {:.3} × one \
                     target (goal ≤ {g:.1}): {}",
                    r.jobs,
                    r.ratio,
                    met(r.ratio <= g)
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "- `status --targets` of {FLEET_TARGETS} targets at --jobs {} (the default before, for \
                     comparison): {:.3} × one target",
                    r.jobs, r.ratio
                );
            }
        }
    }
    if let Some(f) = &fleet.floor {
        let _ = writeln!(
            s,
            "- `status --targets` of {FLEET_TARGETS} targets against the libpq floor's {FLEET_TARGETS} targets at \
             once (what limits the ratio above: the floor itself takes {:.3}× one target): {:.3}×",
            f.own.ratio, f.ratio
        );
    }
    if let Some(p) = &fleet.probe {
        let _ = writeln!(
            s,
            "- exporter `/probe` at {} sessions: {:.3} × `pgconn status --format prometheus` as a process \
             (goal ≤ {PROBE_GOAL:.1}): {}",
            fmt_int(p.sessions),
            p.ratio,
            met(p.ratio <= PROBE_GOAL)
        );
    }
    if let Some(m) = &fleet.metrics {
        let _ = writeln!(
            s,
            "- exporter `/metrics` of {FLEET_TARGETS} targets ({ms} ms each way): {:.3} × one `/probe` (goal ≤ \
             {FLEET_GOAL:.1}): {}",
            m.ratio,
            met(m.ratio <= FLEET_GOAL)
        );
    }
    if let Some(l) = &fleet.load {
        let _ = writeln!(
            s,
            "- {} `/probe` requests, {} at once: at most {} backend(s) of the exporter at once in {} samples \
             (goal ≤ 1): {}; {} left after (goal 0): {}; {} failed requests (goal 0): {}",
            fmt_int(l.requests),
            l.clients,
            l.max_backends,
            fmt_int(l.samples),
            met(l.max_backends <= 1),
            l.left_after,
            met(l.left_after == 0),
            l.failed,
            met(l.failed == 0)
        );
        let _ = writeln!(
            s,
            "- exporter peak RSS (VmHWM) after the load: {:.1} MiB (goal < {LOAD_RSS_GOAL_MIB:.0} MiB): {}",
            l.peak_rss_mib,
            met(l.peak_rss_mib < LOAD_RSS_GOAL_MIB)
        );
    }
}

/// The two tables against the libpq floor, and what pgconn sends for each command.
fn floor_tables(s: &mut String, floor: &FloorReport) {
    let ms = floor.latency.as_millis();
    let _ = writeln!(s, "\n## pgconn vs libpq floor (local)\n");
    if let Some(why) = &floor.skipped {
        let _ = writeln!(s, "Not measured: {why}.");
        let _ = writeln!(s, "\n## pgconn vs libpq floor ({ms} ms each way)\n");
        let _ = writeln!(s, "Not measured: {why}.");
        return;
    }
    let _ = writeln!(
        s,
        "The floor is a small C program on libpq (`benches/floor.c`): it connects and sends one statement \
         with PQexec, reads every value and exits; it runs the main statement pgconn sends for the command \
         (see \"What pgconn sends\" below), one round trip after connecting. Both connect over the unix \
         socket here. Goal: pgconn ≤ {FLOOR_GOAL_LOCAL:.1}× the floor (a target).\n"
    );
    let _ = writeln!(
        s,
        "| command | sessions | pgconn wall ms | floor wall ms | ratio | goal | pgconn CPU ms | floor CPU ms | pgconn peak RSS MiB | floor peak RSS MiB |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    );
    for r in &floor.local {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {:.3} | ≤ {:.2} {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.what,
            fmt_int(r.sessions),
            r.pgconn.wall_ms,
            r.floor.wall_ms,
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            },
            r.pgconn.cpu_ms,
            r.floor.cpu_ms,
            r.pgconn.max_rss_mib,
            r.floor.max_rss_mib,
        );
    }

    let _ = writeln!(s, "\n## pgconn vs libpq floor ({ms} ms each way)\n");
    let _ = writeln!(
        s,
        "The same, over TCP through a proxy on 127.0.0.1 that delays every chunk by {ms} ms in each direction \
         (a {} ms round trip; order kept per direction), in front of the cluster's TCP port. Round trips are \
         counted by the proxy in one untimed run of each: the times the server spoke after the client had, \
         connection set-up included (the TLS request, which the sandbox declines, and the startup). Every \
         round trip beyond the floor's costs about {} ms. Goal: pgconn ≤ {FLOOR_GOAL_PROXIED:.2}× the floor.\n",
        2 * ms,
        2 * ms
    );
    let _ = writeln!(
        s,
        "| command | sessions | pgconn wall ms | floor wall ms | pgconn − floor ms | ratio | goal | pgconn round trips | floor round trips | pgconn CPU ms | floor CPU ms |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    );
    for r in &floor.proxied {
        let (a, b) = r
            .round_trips
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.3} | ≤ {:.2} {} | {a} | {b} | {:.1} | {:.1} |",
            r.what,
            fmt_int(r.sessions),
            r.pgconn.wall_ms,
            r.floor.wall_ms,
            r.pgconn.wall_ms - r.floor.wall_ms,
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            },
            r.pgconn.cpu_ms,
            r.floor.cpu_ms,
        );
    }

    view_tables(s, floor);
    blocked_by_table(s, floor);

    let _ = writeln!(s, "\n## What pgconn sends\n");
    let _ = writeln!(
        s,
        "As `--show-sql` echoed it at the start of the run (each statement by its first line). The floor \
         runs only the last, the command's main read, with the bind parameters written in as literals.\n"
    );
    for case in &floor.cases {
        let _ = writeln!(
            s,
            "- `pgconn {}`: {} statement(s): {}{}",
            case.pgconn_args.join(" "),
            case.sent.len(),
            case.sent
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", then "),
            case.fallback
                .as_ref()
                .map(|e| format!(
                    ". Rebuilding the last one failed ({e}); the floor runs the psql statement instead"
                ))
                .unwrap_or_default()
        );
    }
}

/// What `blocked_by` costs the sessions statement when no session waits on a lock.
fn blocked_by_table(s: &mut String, floor: &FloorReport) {
    if floor.blocked_by.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Who blocks whom: what `blocked_by` costs with no lock waiter (local)\n"
    );
    let _ = writeln!(
        s,
        "The floor runs pgconn's own `sessions --json` statement, once as sent and once with the \
         `blocked_by` column taken out, alternating, over the unix socket; no session waits on a \
         lock, so `pg_blocking_pids` is never called and what is measured is the planning and evaluation \
         of the CASE. Goal: ≤ \
         {BLOCKED_BY_GOAL:.2}×.\n"
    );
    let _ = writeln!(
        s,
        "| sessions | with ms | without ms | ratio | goal | with CPU ms | without CPU ms |"
    );
    let _ = writeln!(s, "| ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for r in &floor.blocked_by {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.3} | ≤ {:.2} {} | {:.1} | {:.1} |",
            fmt_int(r.sessions),
            r.pgconn.wall_ms,
            r.floor.wall_ms,
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            },
            r.pgconn.cpu_ms,
            r.floor.cpu_ms,
        );
    }
}

/// pgconn against the bare view statements, and where the server's time goes.
fn view_tables(s: &mut String, floor: &FloorReport) {
    let _ = writeln!(
        s,
        "\n## Below the floor's own SQL: reading the view at all (local)\n"
    );
    let _ = writeln!(
        s,
        "The least any client can do is read pg_stat_activity at all: the floor runs {} in place of \
         pgconn's statement, over the unix socket, with everything else as above. What pgconn pays beyond \
         it is the rest of its statement on the server (which rows are client backends, the role names, \
         the ages, the ordering, the counts and the server's facts) and its own work on the rows. Goal: \
         pgconn ≤ {VIEW_GOAL:.2}× the floor.\n",
        VIEW_FLOOR
            .iter()
            .map(|(what, _, sql)| format!("`{sql}` (for {what})"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let _ = writeln!(
        s,
        "| command | sessions | floor runs | pgconn wall ms | floor wall ms | ratio | goal | pgconn CPU ms | floor CPU ms | pgconn peak RSS MiB | floor peak RSS MiB |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    );
    for r in &floor.view {
        let sql = VIEW_FLOOR
            .iter()
            .find(|(what, ..)| *what == r.what)
            .map_or("", |(_, _, sql)| sql);
        let _ = writeln!(
            s,
            "| {} | {} | `{sql}` | {:.1} | {:.1} | {:.3} | ≤ {:.2} {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.what,
            fmt_int(r.sessions),
            r.pgconn.wall_ms,
            r.floor.wall_ms,
            r.ratio,
            r.goal_ratio,
            if r.ratio <= r.goal_ratio {
                "met"
            } else {
                "**not met**"
            },
            r.pgconn.cpu_ms,
            r.floor.cpu_ms,
            r.pgconn.max_rss_mib,
            r.floor.max_rss_mib,
        );
    }
    if floor.explained.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n### Where the server's time goes ({} sessions)\n",
        fmt_int(SIZES[SIZES.len() - 1])
    );
    let _ = writeln!(
        s,
        "`EXPLAIN (ANALYZE, FORMAT JSON)` of each statement through psql, {EXPLAIN_RUNS} times; the run with \
         the median execution time. A node's own time is its total (× loops) less its children's; \
         instrumenting every row makes all of them slower than unobserved, the ones that touch every \
         row most. A CTE's plan shows where it is defined; its time is also in the total of the CTE Scan \
         that first read it (not in that scan's own time). Reproduce with `EXPLAIN ANALYZE` and the \
         statements under \"Commands\".\n"
    );
    let _ = writeln!(s, "| statement | planning ms | execution ms |");
    let _ = writeln!(s, "| --- | ---: | ---: |");
    for e in &floor.explained {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} |",
            e.what, e.planning_ms, e.execution_ms
        );
    }
    for e in &floor.explained {
        let _ = writeln!(
            s,
            "\n<details><summary>{}: {:.2} ms</summary>\n",
            e.what, e.execution_ms
        );
        let _ = writeln!(s, "| node | rows | total ms | own ms |");
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        for (depth, label, rows, inclusive, exclusive) in &e.nodes {
            let _ = writeln!(
                s,
                "| {}{label} | {rows} | {inclusive:.2} | {exclusive:.2} |",
                "· ".repeat(*depth)
            );
        }
        if !e.sql.contains('\n') {
            let _ = writeln!(s, "\n`{}`", e.sql);
        }
        let _ = writeln!(s, "\n</details>");
    }
}

/// Starting pgconn against psql, and the Debian package's size.
fn start_and_package(
    s: &mut String,
    (pgconn, psql, ratio): &Comparison,
    package: &std::result::Result<Package, String>,
) {
    let _ = writeln!(s, "\n## Start-up and the Debian package\n");
    let _ = writeln!(
        s,
        "`pgconn --version` against `psql --version`: loading each program and the libraries it links, \
         then printing one line, alternated like the commands above (no server involved).\n"
    );
    let _ = writeln!(
        s,
        "| command | pgconn wall ms | psql wall ms | ratio | pgconn CPU ms | psql CPU ms | pgconn peak RSS MiB | psql peak RSS MiB |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let _ = writeln!(
        s,
        "| --version | {:.1} | {:.1} | {ratio:.3} | {:.1} | {:.1} | {:.1} | {:.1} |",
        pgconn.wall_ms,
        psql.wall_ms,
        pgconn.cpu_ms,
        psql.cpu_ms,
        pgconn.max_rss_mib,
        psql.max_rss_mib
    );
    match package {
        Ok(p) => {
            let _ = writeln!(
                s,
                "\nThe package `cargo deb` built (`{}`, version {}): {:.2} MiB ({} bytes) to download; \
                 Installed-Size {} KiB ({:.2} MiB) once installed: the binary, {} man pages, three shell \
                 completions, the exporter's systemd unit and the README.",
                p.file.file_name().unwrap_or_default().to_string_lossy(),
                p.version,
                p.bytes as f64 / (1024.0 * 1024.0),
                fmt_int(p.bytes as usize),
                fmt_int(p.installed_kib as usize),
                p.installed_kib as f64 / 1024.0,
                std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/man"))
                    .map(|d| d.count())
                    .unwrap_or(0),
            );
        }
        Err(why) => {
            let _ = writeln!(
                s,
                "\nNo Debian package measured ({why}): run `cargo deb` before the bench to include its size \
                 and installed size here."
            );
        }
    }
}

fn fmt_int(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
