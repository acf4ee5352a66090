//! A real PgBouncer (Debian package `pgbouncer`) for tests: started in the foreground from a given ini, as
//! the `postgres` user when run as root (PgBouncer refuses root), stopped on drop.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PgBouncer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pgbouncer_binary() -> PathBuf {
    for p in [
        "/usr/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
        "/usr/local/bin/pgbouncer",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("pgbouncer is not installed: apt-get install pgbouncer");
}

impl PgBouncer {
    /// Start PgBouncer with `ini`, after replacing its [pgbouncer] listen port, auth and file settings with
    /// test values: trust authentication for `users`, a private port, logs in a temp dir.
    pub fn start(ini: &str, users: &[&str]) -> PgBouncer {
        let dir = tempfile::Builder::new()
            .prefix("pgconn-pgb-")
            .tempdir_in("/tmp")
            .unwrap();
        let port = free_port();
        let userlist = dir.path().join("userlist.txt");
        std::fs::write(
            &userlist,
            users
                .iter()
                .map(|u| format!("\"{u}\" \"\"\n"))
                .collect::<String>(),
        )
        .unwrap();
        let overridden = [
            "listen_addr",
            "listen_port",
            "auth_type",
            "auth_file",
            "logfile",
            "pidfile",
            "unix_socket_dir",
            "admin_users",
            "stats_users",
        ];
        let mut text = String::new();
        for line in ini.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            if !overridden.contains(&key) {
                text.push_str(line);
                text.push('\n');
            }
            if line.trim() == "[pgbouncer]" {
                text.push_str(&format!(
                    "listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\nauth_file = {}\n\
                     logfile = {}\npidfile = {}\nunix_socket_dir =\nadmin_users = postgres\n",
                    userlist.display(),
                    dir.path().join("pgbouncer.log").display(),
                    dir.path().join("pgbouncer.pid").display()
                ));
            }
        }
        let ini_path = dir.path().join("pgbouncer.ini");
        std::fs::write(&ini_path, text).unwrap();
        let mut cmd = Command::new(pgbouncer_binary());
        cmd.arg(&ini_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .unwrap()
                .expect("a postgres system user");
            std::os::unix::fs::chown(dir.path(), Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .unwrap();
            for f in ["userlist.txt", "pgbouncer.ini"] {
                std::os::unix::fs::chown(
                    dir.path().join(f),
                    Some(user.uid.as_raw()),
                    Some(user.gid.as_raw()),
                )
                .unwrap();
            }
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        let child = cmd.spawn().expect("starting pgbouncer");
        let bouncer = PgBouncer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not start: {}",
                std::fs::read_to_string(bouncer.dir.path().join("pgbouncer.log"))
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    /// The admin console's conninfo.
    pub fn console(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=pgbouncer sslmode=disable",
            self.port
        )
    }

    /// A client connection through PgBouncer to `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .dbname(db)
            .connect(postgres::NoTls)
            .unwrap()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
