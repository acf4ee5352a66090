//! Shared integration-test harness: one throwaway PostgreSQL cluster per test binary, a builder that runs
//! the pgconn binary against it, ground-truth helpers and TLS material.
//!
//! Every test binary does `mod support;`. Tests in one binary run in parallel against the same cluster, so
//! each test names its sessions, roles and databases with [`unique`] and filters on that name.
#![allow(dead_code, unused_imports)]

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use pgconn::sandbox::{Cluster, ClusterOptions, ServerError, SslFiles, Workload};

/// max_connections of the per-binary cluster: room for many parallel tests.
pub const SHARED_MAX_CONNECTIONS: u32 = 300;

/// The cluster of this test binary, started on first use (unix socket and 127.0.0.1, max_connections
/// [`SHARED_MAX_CONNECTIONS`]). Panics with the install hint when PostgreSQL cannot be found.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        start_cluster(&ClusterOptions {
            max_connections: SHARED_MAX_CONNECTIONS,
            tcp: true,
            ..ClusterOptions::default()
        })
    })
}

/// Start a cluster of its own (for tests that restart it, change settings or fill it up). Panics loudly
/// when it cannot.
pub fn start_cluster(opts: &ClusterOptions) -> Cluster {
    match Cluster::start(opts) {
        Ok(c) => c,
        Err(e) => panic!(
            "\n\nintegration tests need a real PostgreSQL server and could not start one:\n  {e:#}\n\
             ({})\n\n",
            pgconn::sandbox::INSTALL_HINT
        ),
    }
}

/// A name no other test (in this binary or another one running at the same time) uses: for
/// application_name, roles and databases. Lower case, letters, digits and underscores only.
pub fn unique(name: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    format!(
        "{base}_{}_{}",
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    )
}

/// A fresh connection to database `postgres` as the superuser.
pub fn superuser_client(c: &Cluster) -> postgres::Client {
    c.connect(c.superuser(), "postgres", "pgconn-test-harness")
        .unwrap_or_else(|e| panic!("connecting to the test cluster: {e:#}"))
}

/// Ground truth: pids of the client sessions of an application (optionally in one state), as
/// pg_stat_activity of [`cluster`] reports them.
pub fn server_pids(app: &str, state: Option<&str>) -> std::collections::BTreeSet<i32> {
    let mut c = superuser_client(cluster());
    c.query(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name = $1 \
         AND ($2::text IS NULL OR state = $2)",
        &[&app, &state],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// A login role that is not a superuser (so kill may act on its sessions), created once per test binary.
pub fn app_role() -> String {
    static CREATED: std::sync::Once = std::sync::Once::new();
    CREATED.call_once(|| {
        superuser_client(cluster())
            .batch_execute("CREATE ROLE pgconn_app LOGIN")
            .unwrap();
    });
    "pgconn_app".to_string()
}

/// Run a query as the superuser whose first row's first column is an integer (e.g. `SELECT count(*) ...`).
pub fn ground_truth_count(c: &Cluster, sql: &str) -> i64 {
    let text = c
        .psql(sql)
        .unwrap_or_else(|e| panic!("ground truth query {sql:?}: {e:#}"));
    let first = text.lines().next().unwrap_or("");
    first
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("ground truth query {sql:?} returned {text:?}, not a number"))
}

/// Poll `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Everything a pseudo-terminal session printed until the process ended.
pub fn until_eof(p: &mut expectrl::Session) -> String {
    let rest = p.expect(expectrl::Eof).unwrap();
    let mut bytes = rest.before().to_vec();
    for m in rest.matches() {
        bytes.extend_from_slice(m);
    }
    String::from_utf8_lossy(&bytes).to_string()
}

/// The JSON pgconn printed after a prompt, from all a pseudo-terminal session showed until it ended.
pub fn json_after_prompt(p: &mut expectrl::Session) -> serde_json::Value {
    let text = until_eof(p);
    let start = text
        .find("{\r\n")
        .or_else(|| text.find("{\n"))
        .unwrap_or_else(|| panic!("JSON after the prompt: {text:?}"));
    serde_json::from_str(text[start..].trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Pids of processes whose working directory is in `dir` (a PostgreSQL server and its backends run in
/// their data directory). Zombies are not counted.
pub fn processes_in(dir: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) else {
            continue;
        };
        // A removed directory reads as "/path (deleted)".
        let cwd = cwd.to_string_lossy();
        let cwd = Path::new(cwd.strip_suffix(" (deleted)").unwrap_or(&cwd));
        if cwd.starts_with(dir) {
            pids.push(pid);
        }
    }
    pids
}

/// What a pgconn run produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code; 128 + signal number when killed by a signal
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout parsed as JSON; panics showing stdout and stderr when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); exit code {}\n--- stdout\n{}\n--- stderr\n{}",
                self.status, self.stdout, self.stderr
            )
        })
    }

    /// Panics showing stdout and stderr unless the exit code is `code`.
    pub fn assert_code(self, code: i32) -> Output {
        if self.status != code {
            panic!(
                "expected exit code {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
                self.status, self.stdout, self.stderr
            );
        }
        self
    }
}

enum ClusterEnv {
    Default,
    Explicit(Vec<(String, String)>),
    None,
}

/// Runs the pgconn binary: PG* variables of the test environment removed, PGHOST/PGPORT/PGUSER/PGDATABASE
/// pointing at [`cluster()`] (or another one, or none), HOME a fresh empty directory, no terminal.
pub struct PgconnCmd {
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cluster_env: ClusterEnv,
    stdin: Vec<u8>,
    timeout: Duration,
    home: Option<tempfile::TempDir>,
    /// Run as this OS user (uid, gid) instead of the test's own.
    os_user: Option<(u32, u32)>,
    /// A program (and its arguments) that runs pgconn, e.g. `nsenter --target PID --pid --mount --`.
    wrapper: Vec<OsString>,
    /// The largest file the process may write (RLIMIT_FSIZE), in bytes.
    file_size_limit: Option<u64>,
}

/// A builder for one pgconn run. `--json` is not added: pass it with the other arguments.
pub fn pgconn() -> PgconnCmd {
    PgconnCmd {
        args: Vec::new(),
        envs: Vec::new(),
        cluster_env: ClusterEnv::Default,
        stdin: Vec::new(),
        timeout: Duration::from_secs(120),
        home: None,
        os_user: None,
        wrapper: Vec::new(),
        file_size_limit: None,
    }
}

impl PgconnCmd {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Point PGHOST, PGPORT, PGUSER (postgres) and PGDATABASE (postgres) at this cluster instead of
    /// [`cluster()`].
    pub fn env_cluster(mut self, c: &Cluster) -> Self {
        self.cluster_env = ClusterEnv::Explicit(c.env());
        self
    }

    /// Set no PGHOST/PGPORT/PGUSER/PGDATABASE at all.
    pub fn no_cluster_env(mut self) -> Self {
        self.cluster_env = ClusterEnv::None;
        self
    }

    /// Set a variable (applied after the cluster's, so it can override PGUSER and the like).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), Some(value.into())));
        self
    }

    /// Remove a variable (also one the cluster would set).
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), None));
        self
    }

    /// What the process reads on stdin (default: nothing, stdin is closed).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = input.into();
        self
    }

    /// Use this HOME instead of a fresh empty directory (e.g. one holding a .pgpass).
    pub fn home(self, dir: impl Into<OsString>) -> Self {
        self.env("HOME", dir)
    }

    /// Kill the process and panic when it runs longer than this (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Run pgconn through another program: `program args... pgconn ARGS`.
    pub fn wrapped<I, S>(mut self, program_and_args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.wrapper = program_and_args.into_iter().map(Into::into).collect();
        self
    }

    /// Run as the OS user `name` (the test runs as root), with a HOME of that user's own.
    pub fn run_as_os_user(mut self, name: &str) -> Self {
        let user = nix::unistd::User::from_name(name)
            .unwrap()
            .unwrap_or_else(|| panic!("no OS user {name}"));
        let home = tempfile::tempdir().expect("creating a HOME for the test");
        nix::unistd::chown(home.path(), Some(user.uid), Some(user.gid)).unwrap();
        self.home = Some(home);
        self.os_user = Some((user.uid.as_raw(), user.gid.as_raw()));
        self
    }

    /// Let the process write no file past `bytes` (RLIMIT_FSIZE, with SIGXFSZ ignored): a write beyond it
    /// fails with EFBIG, as a write to a full disk fails with ENOSPC, on a regular file of its own.
    pub fn file_size_limit(mut self, bytes: u64) -> Self {
        self.file_size_limit = Some(bytes);
        self
    }

    /// The std Command this builder would run (for pseudo-terminal tests).
    pub fn command(&mut self) -> Command {
        let mut cmd = match self.wrapper.split_first() {
            None => Command::new(env!("CARGO_BIN_EXE_pgconn")),
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(env!("CARGO_BIN_EXE_pgconn"));
                cmd
            }
        };
        cmd.args(&self.args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        let home = self
            .home
            .get_or_insert_with(|| tempfile::tempdir().expect("creating a HOME for the test"));
        cmd.env("HOME", home.path());
        cmd.env_remove("NO_COLOR");
        if let Some((uid, gid)) = self.os_user {
            use std::os::unix::process::CommandExt;
            // std drops root's supplementary groups when it sets the uid.
            cmd.uid(uid).gid(gid);
        }
        if let Some(bytes) = self.file_size_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    let limit = libc::rlimit {
                        rlim_cur: bytes,
                        rlim_max: bytes,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let cluster_env = match &self.cluster_env {
            ClusterEnv::Default => cluster().env(),
            ClusterEnv::Explicit(env) => env.clone(),
            ClusterEnv::None => Vec::new(),
        };
        cmd.envs(cluster_env);
        for (key, value) in &self.envs {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Run pgconn and collect its exit code and output.
    pub fn run(mut self) -> Output {
        let mut cmd = self.command();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("running {}: {e}", env!("CARGO_BIN_EXE_pgconn")));
        let mut stdin = child.stdin.take().unwrap();
        let input = std::mem::take(&mut self.stdin);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let reader_out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let reader_err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for pgconn") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = String::from_utf8_lossy(&reader_out.join().unwrap()).into_owned();
                let stderr = String::from_utf8_lossy(&reader_err.join().unwrap()).into_owned();
                panic!(
                    "pgconn {:?} ran longer than {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                    self.args, self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = writer.join();
        let stdout = String::from_utf8_lossy(&reader_out.join().unwrap()).into_owned();
        let stderr = String::from_utf8_lossy(&reader_err.join().unwrap()).into_owned();
        use std::os::unix::process::ExitStatusExt;
        let status = status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(-1);
        Output {
            status,
            stdout,
            stderr,
        }
    }

    /// Run and panic (showing stdout and stderr) unless the exit code is `code`.
    pub fn assert_code(self, code: i32) -> Output {
        self.run().assert_code(code)
    }

    /// Run, expect exit code 0, and parse stdout as JSON.
    pub fn json(self) -> serde_json::Value {
        self.assert_code(0).json()
    }
}

/// Throwaway certificates for TLS tests, made with the openssl crate.
/// A cluster whose every slot is taken, and the test's own window on it (a WAL sender connection).
pub mod full {
    use std::collections::BTreeMap;

    use pgconn::wire::{Address, Connection};

    use super::{start_cluster, Cluster, ClusterOptions, Workload};

    /// A connection to `c` as a logical WAL sender (the test's own window on a full server).
    pub fn walsender(c: &Cluster) -> Connection {
        let address = Address::unix_socket(c.socket_dir(), c.port());
        Connection::connect(
            &address,
            &[
                ("user", "postgres"),
                ("database", "postgres"),
                ("replication", "database"),
            ],
        )
        .expect("a WAL sender connection as postgres")
    }

    /// One value of a query over `conn`.
    pub fn value(conn: &mut Connection, sql: &str) -> String {
        let rows = conn.query(sql).unwrap();
        rows[0].value(0).unwrap_or("").to_string()
    }

    /// Client backends per application and state, as the server itself counts them.
    pub fn ground_truth(c: &Cluster) -> BTreeMap<(String, String), i64> {
        let mut conn = walsender(c);
        conn.query(
            "SELECT application_name, coalesce(state, ''), count(*) FROM pg_stat_activity \
             WHERE backend_type = 'client backend' GROUP BY 1, 2",
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r.value(0).unwrap().to_string(),
                    r.value(1).unwrap().to_string(),
                ),
                r.value(2).unwrap().parse().unwrap(),
            )
        })
        .collect()
    }

    /// A cluster filled completely: `leaky-worker` sessions of role app (one of them running a query, one
    /// idle in transaction, the rest idle) until ordinary roles are refused, then superuser sessions of
    /// `runaway-admin` until superusers are refused too.
    /// The real psql running `SELECT 1` as postgres on `c` (the server's own psql, else the one on PATH:
    /// any psql speaks to 14-18).
    pub fn psql_select_1(c: &Cluster) -> std::process::Output {
        let own = c.bindir().join("psql");
        let psql_exe = if own.exists() {
            own
        } else {
            std::path::PathBuf::from("psql")
        };
        std::process::Command::new(psql_exe)
            .args([
                "-X",
                "-h",
                &c.socket_dir().display().to_string(),
                "-p",
                &c.port().to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                "SELECT 1",
            ])
            .output()
            .expect("psql (the PostgreSQL client, which .ci/run installs)")
    }

    pub struct Full {
        pub c: Cluster,
        pub w: Workload,
        pub leaky_idle: usize,
        pub admin: usize,
    }

    pub fn full_cluster(extra_conf: &[(&str, &str)]) -> Full {
        let c = start_cluster(&ClusterOptions {
            max_connections: 8,
            superuser_reserved_connections: Some(2),
            conf: extra_conf
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ClusterOptions::default()
        });
        c.psql("CREATE ROLE app LOGIN; CREATE ROLE ops LOGIN REPLICATION")
            .unwrap();
        let mut w = Workload::new();
        w.active(&c, 1, "app", "postgres", "leaky-worker", 3600)
            .unwrap();
        w.idle_in_transaction(&c, 1, "app", "postgres", "leaky-worker")
            .unwrap();
        // A backend that has just ended may hold its slot a moment longer: fill until refused, twice over.
        let (leaky_idle, _) = w.fill(&c, "app", "postgres", "leaky-worker").unwrap();
        let (admin, refusal) = w.fill(&c, "postgres", "postgres", "runaway-admin").unwrap();
        assert_eq!(refusal, "sorry, too many clients already");
        assert_eq!(w.len(), 8);
        // psql, as a superuser, is refused too.
        let psql = psql_select_1(&c);
        let stderr = String::from_utf8_lossy(&psql.stderr);
        assert!(!psql.status.success(), "psql got in: {stderr}");
        assert!(stderr.contains("too many clients"), "{stderr}");
        Full {
            c,
            w,
            leaky_idle,
            admin,
        }
    }
}

pub mod exporter;
pub mod pgbouncer;
pub mod screen;

pub use background_sandbox::{spawn_sandbox, Sandbox};

mod background_sandbox {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::path::PathBuf;
    use std::process::{Child, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;

    use super::pgconn;

    /// `pgconn sandbox ARGS` running in the background, with the variables it printed.
    pub struct Sandbox {
        pub child: Child,
        pub env: BTreeMap<String, String>,
    }

    pub fn spawn_sandbox(args: &[&str]) -> Sandbox {
        let mut cmd = pgconn()
            .no_cluster_env()
            .arg("sandbox")
            .args(args)
            .command();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut env = BTreeMap::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some((k, v)) = line
                    .strip_prefix("export ")
                    .and_then(|kv| kv.split_once('='))
                {
                    env.insert(k.to_string(), v.to_string());
                }
                if env.len() == 5 {
                    let _ = tx.send(env.clone());
                }
            }
        });
        let env = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(env) => env,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "pgconn sandbox printed no PGHOST/PGPORT/PGUSER/PGDATABASE/PGDATA within 60 s"
                );
            }
        };
        Sandbox { child, env }
    }

    impl Sandbox {
        pub fn root(&self) -> PathBuf {
            PathBuf::from(&self.env["PGHOST"])
        }

        pub fn client(&self) -> postgres::Client {
            postgres::Config::new()
                .host_path(self.root())
                .port(self.env["PGPORT"].parse().unwrap())
                .user(&self.env["PGUSER"])
                .dbname(&self.env["PGDATABASE"])
                .connect(postgres::NoTls)
                .unwrap()
        }

        pub fn signal(&self, signal: Signal) {
            kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        }

        pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status;
                }
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    panic!("pgconn sandbox did not exit within {timeout:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl Drop for Sandbox {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub mod tls {
    use std::path::{Path, PathBuf};

    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::extension::{
        AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage,
        SubjectAlternativeName, SubjectKeyIdentifier,
    };
    use openssl::x509::{X509NameBuilder, X509};

    use super::SslFiles;

    /// PEM files written by [`generate`].
    #[derive(Debug, Clone)]
    pub struct TlsFiles {
        pub dir: PathBuf,
        /// The CA that signed the server and client certificates
        pub ca_cert: PathBuf,
        /// Server certificate for `localhost` (SAN DNS:localhost, IP:127.0.0.1)
        pub server_cert: PathBuf,
        pub server_key: PathBuf,
        /// Client certificate with CN `postgres`, signed by the CA
        pub client_cert: PathBuf,
        pub client_key: PathBuf,
        /// A second CA that signed nothing here (verification against it must fail)
        pub other_ca_cert: PathBuf,
    }

    impl TlsFiles {
        /// The server's files for [`super::ClusterOptions::ssl`] (with the CA for client certificates).
        pub fn ssl_files(&self) -> SslFiles {
            SslFiles {
                cert: self.server_cert.clone(),
                key: self.server_key.clone(),
                ca: Some(self.ca_cert.clone()),
            }
        }
    }

    fn key() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }

    fn serial() -> openssl::asn1::Asn1Integer {
        let mut bn = BigNum::new().unwrap();
        bn.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
        bn.to_asn1_integer().unwrap()
    }

    fn name(cn: &str) -> openssl::x509::X509Name {
        let mut b = X509NameBuilder::new().unwrap();
        b.append_entry_by_text("O", "pgconn tests").unwrap();
        b.append_entry_by_text("CN", cn).unwrap();
        b.build()
    }

    fn ca(cn: &str) -> (X509, PKey<Private>) {
        let key = key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(&name(cn)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(ski).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn leaf(ca: &(X509, PKey<Private>), cn: &str, server: bool) -> (X509, PKey<Private>) {
        let key = key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(ca.0.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build()
                .unwrap(),
        )
        .unwrap();
        let eku = if server {
            ExtendedKeyUsage::new().server_auth().build().unwrap()
        } else {
            ExtendedKeyUsage::new().client_auth().build().unwrap()
        };
        b.append_extension(eku).unwrap();
        if server {
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&b.x509v3_context(Some(&ca.0), None))
                .unwrap();
            b.append_extension(san).unwrap();
        }
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(Some(&ca.0), None))
            .unwrap();
        b.append_extension(aki).unwrap();
        b.sign(&ca.1, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn write(dir: &Path, name: &str, pem: Vec<u8>, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Make a CA, a server certificate for localhost and a client certificate signed by it, and an
    /// unrelated second CA; write them as PEM files into `dir` (keys mode 0600).
    pub fn generate(dir: &Path) -> TlsFiles {
        std::fs::create_dir_all(dir).unwrap();
        let ca = ca("pgconn test CA");
        let other = ca_other();
        let server = leaf(&ca, "localhost", true);
        let client = leaf(&ca, "postgres", false);
        TlsFiles {
            dir: dir.to_path_buf(),
            ca_cert: write(dir, "ca.crt", ca.0.to_pem().unwrap(), 0o644),
            server_cert: write(dir, "server.crt", server.0.to_pem().unwrap(), 0o644),
            server_key: write(
                dir,
                "server.key",
                server.1.private_key_to_pem_pkcs8().unwrap(),
                0o600,
            ),
            client_cert: write(dir, "client.crt", client.0.to_pem().unwrap(), 0o644),
            client_key: write(
                dir,
                "client.key",
                client.1.private_key_to_pem_pkcs8().unwrap(),
                0o600,
            ),
            other_ca_cert: write(dir, "other-ca.crt", other.0.to_pem().unwrap(), 0o644),
        }
    }

    fn ca_other() -> (X509, PKey<Private>) {
        ca("pgconn unrelated CA")
    }
}

/// A real psql binary (any speaks to 14-18): the cluster's own, else Debian's of any major; not the
/// `psql` on PATH, which is Debian's wrapper script that execs the real one (with other arguments), so a
/// test that looks for the client process by pid and command would find the wrapper's.
pub fn psql_exe(c: &Cluster) -> std::path::PathBuf {
    let own = c.bindir().join("psql");
    if own.exists() {
        return own;
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/psql"))
        .find(|p| p.exists())
        .unwrap_or_else(|| "psql".into())
}

/// What the server makes of `value` for the setting `name`, in pg_settings' unit (set for one transaction).
pub fn server_base(client: &mut postgres::Client, name: &str, value: &str) -> String {
    let mut t = client.transaction().unwrap();
    t.execute("SELECT set_config($1, $2, true)", &[&name, &value])
        .unwrap();
    t.query_one("SELECT setting FROM pg_settings WHERE name = $1", &[&name])
        .unwrap()
        .get(0)
}

/// `tune --system --json`'s provider commands on a managed platform: (step, command, why).
pub fn provider_commands(v: &serde_json::Value) -> Vec<(i64, String, String)> {
    v["provider_commands"]
        .as_array()
        .unwrap_or_else(|| panic!("no provider_commands: {v}"))
        .iter()
        .map(|c| {
            (
                c["step"].as_i64().unwrap(),
                c["command"].as_str().unwrap().to_string(),
                c["why"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// pgconn's own library, connected with `conninfo` (no prompt, no WAL-sender route).
pub fn library_db(conninfo: &str) -> pgconn::db::Db {
    let conn = pgconn::db::ConnOptions {
        dbname: vec![conninfo.to_string()],
        ..Default::default()
    };
    let spec = pgconn::db::resolve_spec(&conn, Some(&conn.dbname[0]), None).unwrap();
    pgconn::db::Db::connect(spec, false, false, pgconn::db::BreakGlass::Never).unwrap()
}

/// Ground truth from the server: pids of an application's client sessions (in one state).
pub fn app_pids(c: &Cluster, app: &str, state: Option<&str>) -> std::collections::BTreeSet<i32> {
    superuser_client(c)
        .query(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' \
             AND application_name = $1 AND ($2::text IS NULL OR state = $2)",
            &[&app, &state],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}
