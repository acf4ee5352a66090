//! Throwaway PostgreSQL clusters and simulated client sessions.
//!
//! A [`Cluster`] is a private server in a temporary directory under `/tmp`, reachable through a unix socket in
//! that directory (and optionally on 127.0.0.1). When the process runs as root it runs initdb, pg_ctl and
//! postgres as the `postgres` system user, since PostgreSQL refuses to run as root. A cluster never outlives
//! its owner: `Drop` stops it and removes the directory, and a small watchdog process does the same when the
//! owner dies without running destructors (a `static` in a test binary, SIGKILL).
//!
//! A [`Workload`] holds simulated client sessions in a chosen state (idle, idle in transaction, active) so
//! that pg_stat_activity looks like a real connection leak. Each session is a [`crate::wire::Connection`],
//! which speaks the frontend/backend protocol directly on a socket: no thread or runtime per session,
//! thousands open in a second or two, and each session knows its backend pid and cancel key.
//!
//! [`Cluster`] lives in `cluster.rs` (initdb, pg_ctl, the watchdog) and [`Workload`] in `workload.rs`;
//! this module finds the server binaries ([`find_bindir`]) and holds the names both use.

mod cluster;
mod workload;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Result};

pub use crate::wire::ServerError;
pub use cluster::{Cluster, ClusterOptions, SslFiles};
pub use workload::Workload;

/// What to tell a user who has no PostgreSQL server binaries.
pub const INSTALL_HINT: &str =
    "install the PostgreSQL server (e.g. `apt-get install postgresql`) or set \
     PGCONN_PGBIN to the directory that holds initdb, pg_ctl and postgres";

/// The database superuser of every sandbox cluster.
const SUPERUSER: &str = "postgres";

/// application_name of the short connections the cluster itself opens (psql, version, reload checks,
/// the workload's wait for active sessions).
const ADMIN_APP: &str = "pgconn-sandbox-admin";

/// Whether `dir` holds initdb, pg_ctl and postgres.
fn has_server_tools(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|tool| dir.join(tool).is_file())
}

/// Find the directory holding initdb, pg_ctl and postgres.
///
/// Order: `$PGCONN_PGBIN` (or `$PGCONN_TEST_PGBIN`), the directory of `initdb` on PATH, `pg_config --bindir`,
/// the highest `/usr/lib/postgresql/*/bin`.
pub fn find_bindir() -> Result<PathBuf> {
    for var in ["PGCONN_PGBIN", "PGCONN_TEST_PGBIN"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(value);
            if has_server_tools(&dir) {
                return Ok(dir);
            }
            bail!(
                "{var}={} does not contain initdb, pg_ctl and postgres; {INSTALL_HINT}",
                dir.display()
            );
        }
    }

    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !initdb.is_file() {
                continue;
            }
            // /usr/local/bin/initdb may be a symlink into the real bindir, which also holds postgres.
            let real = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf));
            for candidate in real.into_iter().chain([dir.clone()]) {
                if has_server_tools(&candidate) {
                    return Ok(candidate);
                }
            }
        }
    }

    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_server_tools(&dir) {
                return Ok(dir);
            }
        }
    }

    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(version) = name
                .split('.')
                .map(str::parse::<u32>)
                .collect::<Result<Vec<_>, _>>()
            else {
                continue;
            };
            let bin = entry.path().join("bin");
            if has_server_tools(&bin) && best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, bin));
            }
        }
    }
    if let Some((_, dir)) = best {
        return Ok(dir);
    }

    bail!("cannot find PostgreSQL server binaries (initdb, pg_ctl, postgres); {INSTALL_HINT}")
}
