//! pgconn against the psql one-liners it replaces, at 1,000 and 5,000 idle sessions.
//!
//! Run with `cargo bench --bench psql_compare` (builds the release binary). It starts a throwaway cluster,
//! opens idle sessions over the wire protocol, and runs each command as a separate process, alternating
//! pgconn and psql, measuring wall time and peak resident memory (wait4's rusage). Medians go to the terminal
//! and to BENCHMARKS.md at the top of the repository.
//!
//! Environment: PGCONN_BENCH_RUNS (timed runs per command and size, default 31), PGCONN_BENCH_KILL_RUNS
//! (default 7), PGCONN_BENCH_PSQL (the psql to compare with), PGCONN_BENCH_OUT (where to write the report,
//! default BENCHMARKS.md; `-` for none), PGCONN_PGBIN (server binaries).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pgconn::sandbox::{Cluster, ClusterOptions, Workload};

const PGCONN: &str = env!("CARGO_BIN_EXE_pgconn");
const SIZES: [usize; 2] = [1_000, 5_000];
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
}

struct Runner {
    cluster: Cluster,
    psql: PathBuf,
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

impl Runner {
    fn command(&self, tool: Tool, args: &[&str]) -> Command {
        let mut cmd = match tool {
            Tool::Pgconn => Command::new(PGCONN),
            Tool::Psql => {
                let mut c = Command::new(&self.psql);
                c.args(["-X", "-q", "-A", "-v", "ON_ERROR_STOP=1"]);
                c
            }
        };
        cmd.args(args).env_clear();
        // The complete environment, minus the caller's PG* variables, plus the cluster's.
        for (key, value) in std::env::vars_os() {
            if !key.to_string_lossy().starts_with("PG") {
                cmd.env(key, value);
            }
        }
        cmd.envs(self.cluster.env());
        cmd
    }

    /// Run one process with stdout discarded; wall time from spawn to exit, rusage from wait4.
    fn measure(&mut self, tool: Tool, args: &[&str]) -> Result<Sample> {
        let cmd = self.command(tool, args);
        let (sample, status) = self.launcher.run(&cmd, &self.stderr)?;
        if status != 0 {
            bail!(
                "{cmd:?} failed (exit status {status}): {}",
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
        }
        Ok(sample)
    }

    /// stdout of one run (not timed), to check that both tools see what they should.
    fn output(&self, tool: Tool, args: &[&str]) -> Result<String> {
        let out = self
            .command(tool, args)
            .stdin(Stdio::null())
            .output()
            .context("running a check")?;
        if !out.status.success() {
            bail!(
                "{tool:?} {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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

/// Alternate the two tools (swapping who goes first each run) after one untimed warm-up each.
fn compare(runner: &mut Runner, runs: usize, pgconn: &[&str], psql: &[&str]) -> Result<Comparison> {
    runner.measure(Tool::Pgconn, pgconn)?;
    runner.measure(Tool::Psql, psql)?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..runs {
        if i % 2 == 0 {
            a.push(runner.measure(Tool::Pgconn, pgconn)?);
            b.push(runner.measure(Tool::Psql, psql)?);
        } else {
            b.push(runner.measure(Tool::Psql, psql)?);
            a.push(runner.measure(Tool::Pgconn, pgconn)?);
        }
    }
    Ok(compared(&a, &b))
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
            let sample = match tool {
                Tool::Pgconn => runner.measure(tool, &pgconn_args)?,
                Tool::Psql => runner.measure(tool, &psql_args)?,
            };
            runner
                .wait_sessions(0)
                .with_context(|| format!("after {tool:?} terminated them"))?;
            drop(w);
            if i > 0 {
                match tool {
                    Tool::Pgconn => a.push(sample),
                    Tool::Psql => b.push(sample),
                }
            }
        }
    }
    Ok(compared(&a, &b))
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
    let runs = env_usize("PGCONN_BENCH_RUNS", 31);
    let kill_runs = env_usize("PGCONN_BENCH_KILL_RUNS", 7);
    raise_nofile(SIZES[1] as u64 + 1_000);
    let machine = machine();
    let mut launcher = Launcher::start()?;
    let floor_kib = {
        let stderr = std::env::temp_dir().join(format!("psql-compare-{}", std::process::id()));
        let r = launcher.run(&Command::new("/bin/true"), &stderr);
        let _ = std::fs::remove_file(&stderr);
        r?.0.max_rss_kib
    };

    eprintln!("psql_compare: starting a cluster with max_connections 5200");
    let cluster = Cluster::start(&ClusterOptions {
        max_connections: 5_200,
        ..ClusterOptions::default()
    })?;
    let psql = find_psql(cluster.bindir())?;
    let stderr = cluster.root_dir().join("bench-stderr");
    let mut runner = Runner {
        cluster,
        psql,
        stderr,
        launcher,
    };
    runner.cluster.psql(&format!("CREATE ROLE {ROLE} LOGIN"))?;
    let server_version = runner.cluster.psql("SHOW server_version")?;
    let psql_version = first_line(&runner.psql.display().to_string(), &["--version"]);
    let pgconn_version = first_line(PGCONN, &["--version"]);

    let mut rows = Vec::new();
    let mut w = Workload::new();
    for n in SIZES {
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
            eprintln!("psql_compare: {what} at {n} sessions, {runs} runs each");
            let (a, b, paired_ratio) = compare(&mut runner, runs, &pgconn_args, &["-c", psql_sql])?;
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
    }
    w.close();
    runner.wait_sessions(0)?;

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
                format!("{:.1} MiB", floor_kib as f64 / 1024.0),
            ),
        ],
        runs,
        kill_runs,
    );
    print!("{report}");
    let out = std::env::var("PGCONN_BENCH_OUT")
        .unwrap_or_else(|_| format!("{}/BENCHMARKS.md", env!("CARGO_MANIFEST_DIR")));
    if out != "-" {
        std::fs::write(&out, &report).with_context(|| format!("writing {out}"))?;
        eprintln!("psql_compare: wrote {out}");
    }
    Ok(())
}

fn report(
    rows: &[Row],
    machine: &[(&str, String)],
    versions: &[(&str, String)],
    runs: usize,
    kill_runs: usize,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks: pgconn against psql\n");
    let _ = writeln!(
        s,
        "Generated by `cargo bench --bench psql_compare`; do not edit by hand. Each command runs as its own \
         process against a throwaway local cluster (unix socket, max_connections 5200) holding 1,000 or 5,000 \
         idle sessions of an ordinary role. pgconn and psql alternate (who goes first swaps every run) after \
         one untimed warm-up each; times are medians of {runs} runs ({kill_runs} for kill-idle, whose \
         sessions are re-opened before every run). The ratio is the median over the runs of pgconn's time \
         divided by that of the psql run next to it, which cancels most of the drift in the machine's load. \
         Peak memory is the largest maximum resident set size of any run (wait4 rusage). CPU is user + \
         system time of the client process only; the server does most of the work for both.\n"
    );
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

    let _ = writeln!(s, "\n## Goals\n");
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
    s
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
