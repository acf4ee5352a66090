//! `pgconn rescue`: the cluster on this host, its processes as their titles show them, the plan (what
//! matched, what is left alone and why), and what happened to each process, observed through /proc.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::batch::BatchRun;
use super::kill::{counted_names, OutcomeKind, SkipReason, TERMINATED_CLIENTS_RECEIVE};
use super::status::StatusReport;
use super::State;

/// The cluster, as found on this host.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterInfo {
    /// This machine's host name.
    pub host: String,
    pub pgdata: PathBuf,
    pub postmaster_pid: i32,
    pub port: Option<u16>,
    pub socket_dir: Option<PathBuf>,
    /// cluster_name of the running server ("" when unset).
    pub cluster_name: String,
    /// update_process_title as the configuration says it (None: not set, the default `on`).
    pub update_process_title: Option<String>,
    /// Where update_process_title was set.
    pub update_process_title_source: Option<String>,
    /// When the configuration last changed (RFC 3339): the newest change time of the files and
    /// directories it was read from. A backend that connected later has titles that are current.
    pub configuration_changed_at: Option<String>,
    /// The file or directory of that change.
    pub configuration_changed: Option<PathBuf>,
}

/// The selection, as given.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Selection {
    /// In PostgreSQL's spelling, as asked for.
    #[serde(serialize_with = "super::state::serialize_pg")]
    pub states: Vec<State>,
    pub db: Vec<String>,
    pub user: Vec<String>,
    pub client: Vec<String>,
    pub exclude_db: Vec<String>,
    pub exclude_user: Vec<String>,
    pub exclude_client: Vec<String>,
    pub connected_longer_than_seconds: Option<f64>,
    pub keep: Option<usize>,
    pub max: Option<usize>,
    /// `--all`: no --user, --db or --client was needed.
    pub all: bool,
    /// `--trust-titles`: a title the kernel cannot confirm is trusted (never one it contradicts).
    pub trust_titles: bool,
}

/// Why a backend's title is taken as current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// It connected after the configuration last changed: update_process_title has had the
    /// configuration's value (on) for its whole life.
    ConfigUnchanged,
    /// The kernel shows it blocked waiting for its client to send something: no query runs.
    WaitingForClient,
    /// `--trust-titles`, where the kernel would not tell this user.
    TrustTitles,
}

/// A client backend, as its title and /proc show it.
#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    pub pid: i32,
    /// The process start time (RFC 3339): its connection time.
    pub started_at: String,
    pub connected_seconds: f64,
    pub user: String,
    pub database: String,
    /// The client address as the title shows it, `local` for a unix socket.
    pub client: String,
    pub client_port: Option<u16>,
    /// The pg_stat_activity state its title shows (`idle`, `idle in transaction`, ...), `active` for a
    /// command tag, None when the title shows none. JSON has the snake_case key.
    pub state: Option<State>,
    /// What the title shows after the client (`idle`, `SELECT`, `COPY waiting`).
    pub activity: String,
    /// The whole title.
    pub title: String,
    /// Its start time in clock ticks after boot (with the pid, it names this process).
    #[serde(skip)]
    pub start_ticks: u64,
    /// Why its title is taken as current (None: it is not; such a backend is never a target).
    pub evidence: Option<Evidence>,
}

/// A child of the postmaster that is not a client backend (never acted on).
#[derive(Debug, Clone, Serialize)]
pub struct OtherProcess {
    pub pid: i32,
    /// What its title says it is: `checkpointer`, `walsender`, `autovacuum worker`, ...; `not a
    /// backend` for a process whose title reads like a client backend's but that is not one.
    pub kind: String,
    /// For `not a backend`: what shows it (another executable, another session, started before the
    /// postmaster).
    pub why: Option<String>,
}

/// A child whose title pgconn cannot read unambiguously (never acted on).
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    pub pid: i32,
    pub title: String,
    pub reason: String,
}

/// What happened to one target, observed through /proc and its pidfd.
#[derive(Debug, Clone, Serialize)]
pub struct RescueOutcome {
    pub pid: i32,
    pub started_at: String,
    pub user: String,
    pub database: String,
    pub client: String,
    /// State when previewed.
    pub state: Option<State>,
    pub outcome: OutcomeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipReason>,
    pub reason: Option<String>,
    /// What its title showed at the moment of action (or after the wait, when still there).
    pub title_now: Option<String>,
    /// The state that title shows (`active` for a command tag), as kill's `state_now`.
    pub state_now: Option<State>,
    /// When SIGTERM was sent (system clock).
    pub at: Option<String>,
}

/// The targets of one (database, user).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub database: String,
    pub user: String,
    pub backends: usize,
    pub longest_connected_seconds: f64,
}

/// What the targets' clients receive (SIGTERM is what pg_terminate_backend sends): their applications
/// cannot be named from titles, so the note names whom they connect as.
pub fn clients_note(groups: &[Group]) -> String {
    let named: Vec<(String, usize)> = groups
        .iter()
        .map(|g| {
            (
                format!("user \"{}\", database \"{}\"", g.user, g.database),
                g.backends,
            )
        })
        .collect();
    format!(
        "the clients of the targeted backends receive {TERMINATED_CLIENTS_RECEIVE}; their process titles do \
         not name their applications, only whom they connect as: {}",
        counted_names(&named, ("backend", "backends")).join(", ")
    )
}

/// What rescue observes after its batches: `after` in its report, between its summary and its log.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Afterwards {
    pub after: Option<After>,
}

/// A normal connection tried after the rescue.
#[derive(Debug, Clone, Serialize)]
pub struct After {
    pub target: String,
    pub connected: bool,
    pub error: Option<String>,
    /// What resolving the connection options had to say, when no connection was made (a status's
    /// `connection` carries them otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub status: Option<StatusReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RescueReport {
    pub cluster: ClusterInfo,
    /// Always `terminate` (SIGTERM: what pg_terminate_backend sends).
    pub action: super::kill::Action,
    pub dry_run: bool,
    pub selection: Selection,
    /// Children of the postmaster.
    pub processes: usize,
    /// Client backends whose titles were read, per state (`active` for a command tag; a title that shows
    /// no state stops the run).
    pub states: BTreeMap<String, usize>,
    pub client_backends: Vec<Backend>,
    pub other_processes: Vec<OtherProcess>,
    pub unreadable: Vec<Unreadable>,
    /// Matching backends whose titles may not be current (connected before the configuration last
    /// changed, and the kernel does not show them waiting for their client): left alone.
    pub untrusted: Vec<Unreadable>,
    /// Client backends that matched the selection (before --keep and --max).
    pub matched: usize,
    pub kept: usize,
    pub capped: usize,
    pub targets: Vec<Backend>,
    /// The targets per (database, user), the most first.
    pub groups: Vec<Group>,
    /// What was signalled and what came of it (`acted` once processes were signalled), with the normal
    /// connection tried afterwards.
    #[serde(flatten)]
    pub run: BatchRun<RescueOutcome, Afterwards>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}
