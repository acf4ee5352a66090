//! initdb, pg_ctl and a watchdog: a throwaway PostgreSQL server in a temporary directory.

use std::fmt;
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::unistd::{Gid, Uid, User};

use super::{find_bindir, has_server_tools, ADMIN_APP, INSTALL_HINT, SUPERUSER};

/// Wait (at most `timeout`) until process `pid` has exited: gone, or a zombie waiting to be reaped.
fn wait_for_exit(pid: i32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let status = PathBuf::from(format!("/proc/{pid}/status"));
    let running = || {
        fs::read_to_string(&status).is_ok_and(|text| {
            !text
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
    };
    while running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Certificate files for a cluster with `ssl = on`. They are copied into the data directory.
#[derive(Debug, Clone)]
pub struct SslFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA used to verify client certificates (`ssl_ca_file`)
    pub ca: Option<PathBuf>,
}

/// How to set up a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Directory of initdb, pg_ctl and postgres; found with [`find_bindir`] when `None`
    pub bindir: Option<PathBuf>,
    pub max_connections: u32,
    pub superuser_reserved_connections: Option<u32>,
    /// Also listen on 127.0.0.1 (on a free port, the same as the socket's)
    pub tcp: bool,
    pub ssl: Option<SslFiles>,
    /// pg_hba.conf lines placed before the defaults (trust for local, 127.0.0.1/32 and ::1/128)
    pub hba: Vec<String>,
    /// Extra postgresql.conf settings; values are quoted when written
    pub conf: Vec<(String, String)>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            bindir: None,
            max_connections: 100,
            superuser_reserved_connections: None,
            tcp: false,
            ssl: None,
            hba: Vec::new(),
            conf: Vec::new(),
        }
    }
}

/// A throwaway PostgreSQL server. Stopped and removed on drop.
pub struct Cluster {
    bindir: PathBuf,
    root: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    tcp_port: Option<u16>,
    /// Who runs the server processes (the `postgres` user when we are root)
    run_as: Option<(Uid, Gid)>,
    version_num: u32,
    watchdog: Option<Child>,
}

/// Runs after the owner is gone (its end of our stdin closes): stops the postmaster of data dir $1 with an
/// immediate shutdown (SIGQUIT) and removes the directory $2. Ignores the terminal's signals.
/// A zombie counts as gone: it may wait a while for the init process to reap it.
const WATCHDOG_SCRIPT: &str = r#"trap '' INT HUP QUIT
alive() {
  if [ -r "/proc/$1/status" ]; then
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
  else
    kill -0 "$1" 2>/dev/null
  fi
}
cat >/dev/null 2>&1
pidfile="$1/postmaster.pid"
if [ -r "$pidfile" ]; then
  read -r pid < "$pidfile"
  case "$pid" in ''|*[!0-9]*) pid= ;; esac
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(readlink "/proc/$pid/cwd")" != "$1" ]; then pid= ; fi
  if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
    i=0
    while alive "$pid" && [ "$i" -lt 300 ]; do sleep 0.05; i=$((i+1)); done
    kill -KILL "$pid" 2>/dev/null
  fi
fi
rm -rf "$2"
"#;

fn free_tcp_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free TCP port")?;
    Ok(listener.local_addr()?.port())
}

/// Quote a postgresql.conf value.
fn conf_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn describe_output(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stdout.trim());
    }
    text
}

fn server_owner() -> Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = User::from_name(SUPERUSER)
        .context("looking up the `postgres` system user")?
        .ok_or_else(|| {
            anyhow!(
                "running as root needs a `postgres` system user to run the server as (PostgreSQL refuses \
                 root); {INSTALL_HINT}"
            )
        })?;
    Ok(Some((user.uid, user.gid)))
}

impl Cluster {
    /// initdb a new cluster in a temporary directory and start it.
    pub fn start(opts: &ClusterOptions) -> Result<Cluster> {
        let bindir = match &opts.bindir {
            Some(dir) if has_server_tools(dir) => dir.clone(),
            Some(dir) => bail!(
                "{} does not contain initdb, pg_ctl and postgres; {INSTALL_HINT}",
                dir.display()
            ),
            None => find_bindir()?,
        };
        let run_as = server_owner()?;

        let root = tempfile::Builder::new()
            .prefix("pgconn-")
            .tempdir_in("/tmp")
            .context("creating a temporary directory in /tmp")?
            .keep();
        let root = fs::canonicalize(&root).unwrap_or(root);
        let data = root.join("data");
        let mut cluster = Cluster {
            bindir,
            log: root.join("server.log"),
            root,
            data,
            port: 0,
            tcp_port: None,
            run_as,
            version_num: 0,
            watchdog: None,
        };
        // From here on, Drop (or the watchdog) removes everything if a step fails.
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        if let Some((uid, gid)) = run_as {
            nix::unistd::chown(&cluster.root, Some(uid), Some(gid)).with_context(|| {
                format!("handing {} to the postgres user", cluster.root.display())
            })?;
        }

        let out = cluster
            .server_command("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args([
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
            ])
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!("initdb failed ({}): {}", out.status, describe_output(&out));
        }

        cluster.write_hba(&opts.hba)?;
        if let Some(ssl) = &opts.ssl {
            cluster.install_ssl_files(ssl)?;
        }
        fs::OpenOptions::new()
            .append(true)
            .open(cluster.data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(b"\ninclude 'pgconn.conf'\n"))
            .context("writing postgresql.conf")?;

        // A port picked by binding port 0 may be taken again before the server binds it: try a few.
        let mut attempt = 0;
        loop {
            attempt += 1;
            cluster.port = free_tcp_port()?;
            cluster.tcp_port = opts.tcp.then_some(cluster.port);
            cluster.write_conf(opts)?;
            match cluster.pg_ctl_start() {
                Ok(()) => break,
                Err(_) if opts.tcp && attempt < 3 => continue,
                Err(e) => return Err(e),
            }
        }

        let version = cluster.psql("SHOW server_version_num")?;
        cluster.version_num = version
            .trim()
            .parse()
            .with_context(|| format!("unexpected server_version_num {version:?}"))?;
        Ok(cluster)
    }

    fn spawn_watchdog(&self) -> Result<Child> {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("pgconn-sandbox-watchdog")
            .arg(&self.data)
            .arg(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .current_dir("/")
            .process_group(0)
            .spawn()
            .context("starting the sandbox watchdog")
    }

    /// A command for one of the server programs, run as the server's owner in the cluster directory.
    fn server_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        if let Some((uid, gid)) = self.run_as {
            // std drops the supplementary groups itself when root sets a uid (setgroups(0, NULL)).
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        // Its own process group: a terminal's Ctrl-C must not kill initdb or pg_ctl halfway.
        cmd.current_dir(&self.root)
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }

    fn chown_to_server(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.run_as {
            nix::unistd::chown(path, Some(uid), Some(gid))
                .with_context(|| format!("changing the owner of {}", path.display()))?;
        }
        Ok(())
    }

    fn write_hba(&self, extra: &[String]) -> Result<()> {
        let mut text = String::from("# pg_hba.conf of a pgconn sandbox\n");
        for line in extra {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(
            "local   all             all                     trust\n\
             local   replication     all                     trust\n\
             host    all             all     127.0.0.1/32    trust\n\
             host    all             all     ::1/128         trust\n\
             host    replication     all     127.0.0.1/32    trust\n",
        );
        fs::write(self.data.join("pg_hba.conf"), text).context("writing pg_hba.conf")
    }

    fn install_ssl_files(&self, ssl: &SslFiles) -> Result<()> {
        let mut files = vec![
            (&ssl.cert, "server.crt", 0o644),
            (&ssl.key, "server.key", 0o600),
        ];
        if let Some(ca) = &ssl.ca {
            files.push((ca, "root.crt", 0o644));
        }
        for (src, name, mode) in files {
            let dst = self.data.join(name);
            fs::copy(src, &dst).with_context(|| format!("copying {}", src.display()))?;
            fs::set_permissions(&dst, fs::Permissions::from_mode(mode))?;
            self.chown_to_server(&dst)?;
        }
        Ok(())
    }

    fn write_conf(&self, opts: &ClusterOptions) -> Result<()> {
        let listen = if opts.tcp { "127.0.0.1" } else { "" };
        let mut settings: Vec<(String, String)> = vec![
            ("listen_addresses".into(), listen.into()),
            ("port".into(), self.port.to_string()),
            (
                "unix_socket_directories".into(),
                self.root.display().to_string(),
            ),
            ("max_connections".into(), opts.max_connections.to_string()),
            ("fsync".into(), "off".into()),
            ("synchronous_commit".into(), "off".into()),
            ("full_page_writes".into(), "off".into()),
            ("logging_collector".into(), "off".into()),
        ];
        if let Some(n) = opts.superuser_reserved_connections {
            settings.push(("superuser_reserved_connections".into(), n.to_string()));
        }
        if opts.ssl.is_some() {
            settings.push(("ssl".into(), "on".into()));
            settings.push(("ssl_cert_file".into(), "server.crt".into()));
            settings.push(("ssl_key_file".into(), "server.key".into()));
        }
        if opts.ssl.as_ref().is_some_and(|s| s.ca.is_some()) {
            settings.push(("ssl_ca_file".into(), "root.crt".into()));
        }
        settings.extend(opts.conf.iter().cloned());

        let mut text = String::from("# settings of a pgconn sandbox\n");
        for (key, value) in &settings {
            text.push_str(&format!("{key} = {}\n", conf_quote(value)));
        }
        let path = self.data.join("pgconn.conf");
        fs::write(&path, text).context("writing pgconn.conf")?;
        self.chown_to_server(&path)
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-t", "60", "start"])
            .output()
            .context("running pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "pg_ctl start failed ({}): {}\nserver log ({}):\n{}",
                out.status,
                describe_output(&out),
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<()> {
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .output()
            .with_context(|| format!("running pg_ctl {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "pg_ctl {} failed ({}): {}\nserver log ({}):\n{}",
                args.join(" "),
                out.status,
                describe_output(&out),
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// Directory of initdb, pg_ctl and postgres used for this cluster.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// Directory of the unix socket (the value for PGHOST / host=).
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    /// Port of the unix socket (and of 127.0.0.1 when listening on TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP port on 127.0.0.1, when the cluster listens there.
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp_port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The temporary directory holding everything (socket, data directory, server.log).
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The server log file.
    pub fn log_file(&self) -> &Path {
        &self.log
    }

    /// Name of the database superuser ("postgres").
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// server_version_num, e.g. 150018.
    pub fn version_num(&self) -> u32 {
        self.version_num
    }

    /// PGHOST, PGPORT, PGUSER and PGDATABASE for connecting as the superuser to database `postgres`.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env_for("postgres")
    }

    /// PGHOST, PGPORT, PGUSER and PGDATABASE for connecting as the superuser to `dbname`.
    pub fn env_for(&self, dbname: &str) -> Vec<(String, String)> {
        vec![
            ("PGHOST".into(), self.root.display().to_string()),
            ("PGPORT".into(), self.port.to_string()),
            ("PGUSER".into(), SUPERUSER.into()),
            ("PGDATABASE".into(), dbname.into()),
            // For `pgconn rescue` (and pg_ctl), which find the cluster by its data directory.
            ("PGDATA".into(), self.data.display().to_string()),
        ]
    }

    /// A key=value conninfo through the unix socket.
    pub fn conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            crate::conninfo::quote_value(&self.root.display().to_string()),
            self.port,
            crate::conninfo::quote_value(user),
            crate::conninfo::quote_value(dbname)
        )
    }

    /// Connect through the unix socket without TLS.
    pub fn connect(
        &self,
        user: &str,
        dbname: &str,
        application_name: &str,
    ) -> Result<postgres::Client> {
        postgres::Config::new()
            .host_path(&self.root)
            .port(self.port)
            .user(user)
            .dbname(dbname)
            .application_name(application_name)
            .connect_timeout(Duration::from_secs(10))
            .connect(postgres::NoTls)
            .with_context(|| format!("connecting to the sandbox as {user} to database {dbname}"))
    }

    /// Run SQL (one or more statements) as the superuser in database `postgres`; returns the first column
    /// of every row, joined by newlines (NULL as an empty string).
    pub fn psql(&self, sql: &str) -> Result<String> {
        self.psql_in("postgres", sql)
    }

    /// Like [`Cluster::psql`], in another database.
    ///
    /// Returns once the session's backend has exited: a backend keeps its connection slot for a moment
    /// after the client has gone, and a test that fills the server right after would be refused.
    pub fn psql_in(&self, dbname: &str, sql: &str) -> Result<String> {
        let mut client = self.connect(SUPERUSER, dbname, ADMIN_APP)?;
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map(|r| r.get(0))
            .context("reading the sandbox session's backend pid")?;
        let result = Self::simple_query_rows(&mut client, sql);
        drop(client);
        wait_for_exit(backend, Duration::from_secs(5));
        result
    }

    fn simple_query_rows(client: &mut postgres::Client, sql: &str) -> Result<String> {
        let messages = client.simple_query(sql).map_err(|e| {
            let detail = match e.as_db_error() {
                Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
                None => format!("{e:#}"),
            };
            anyhow!("running {sql:?} on the sandbox: {detail}")
        })?;
        let rows: Vec<String> = messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => {
                    Some(row.get(0).unwrap_or("").to_string())
                }
                _ => None,
            })
            .collect();
        Ok(rows.join("\n"))
    }

    /// Stop the server (fast shutdown), keeping the data directory.
    pub fn stop(&mut self) -> Result<()> {
        self.pg_ctl(&["-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Start the server again after [`Cluster::stop`], on the same socket and port.
    pub fn start_again(&mut self) -> Result<()> {
        self.pg_ctl_start()
    }

    /// Restart the server (fast shutdown), e.g. to apply max_connections.
    pub fn restart(&mut self) -> Result<()> {
        let log = self.log.display().to_string();
        self.pg_ctl(&["-l", &log, "-m", "fast", "-w", "-t", "60", "restart"])
    }

    /// Reload the configuration and return once new sessions see it.
    pub fn reload(&self) -> Result<()> {
        let load_time = "SELECT pg_conf_load_time()";
        let before = self.psql(load_time)?;
        self.pg_ctl(&["reload"])?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // A new backend inherits the postmaster's load time, which changes once it has reloaded.
            if self.psql(load_time)? != before {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server did not reload its configuration within 10 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let _ = self.pg_ctl(&["-m", "immediate", "-w", "-t", "30", "stop"]);
        }
        // Closing the watchdog's stdin makes it do its own cleanup (a no-op now, unless pg_ctl failed).
        if let Some(mut watchdog) = self.watchdog.take() {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("root", &self.root)
            .field("port", &self.port)
            .field("tcp_port", &self.tcp_port)
            .field("version_num", &self.version_num)
            .finish()
    }
}
