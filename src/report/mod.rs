//! What pgconn finds and does, as plain data: every command's report (and, for the destructive ones,
//! its plan and result), with the vocabulary they share — a session, its state, a severity level — and
//! the units reports are written in. Everything here serializes to the `--json` output; nothing here
//! talks to a server, reads an option or prints. `render` turns these values into text.

use std::collections::BTreeMap;

use serde::Serialize;

pub use state::State;

pub mod advise;
pub mod batch;
pub mod check;
pub mod fleet;
pub mod kill;
pub mod pgbouncer;
pub mod platform;
pub mod rescue;
pub mod sessions;
pub mod state;
pub mod status;
pub mod tune;
pub mod watch;

/// Severity of a verdict, a finding or a target, in one order: OK < UNKNOWN < WARNING < CRITICAL. The
/// worst of several is their maximum (a target that cannot be judged is less alarming than one judged
/// WARNING or CRITICAL, and worse than OK); Nagios's exit codes are [`Level::nagios_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Unknown,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }

    /// The plugin exit code of this state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn nagios_code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }

    /// The worst of several states; UNKNOWN when there are none.
    pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
        levels.into_iter().max().unwrap_or(Level::Unknown)
    }
}

/// Sessions in a transaction that do nothing, aborted ones included, from per-state counts (snake_case keys).
pub fn idle_in_transaction(states: &BTreeMap<String, usize>) -> usize {
    State::IdleInTransaction.count_in(states) + State::IdleInTransactionAborted.count_in(states)
}

/// Per-state counts with every known state present (at 0), snake_case keys.
pub fn empty_states() -> BTreeMap<String, usize> {
    State::KNOWN.iter().map(|s| (s.key(), 0)).collect()
}

/// How pgconn reached the server: a normal connection, or the emergency route through a WAL sender slot
/// (`replication=database`) when the server refused a normal one. Every report of a command that works
/// on one server carries it as `"connection"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionRoute {
    pub via: Via,
    /// Why the emergency route was taken (the server's refusal, or `--break-glass always`), with the
    /// server's numbers behind a refusal once the route got in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The cause of the refusal that made pgconn take the route (`full`, `reserved_only`), as the
    /// fleet's `error_kind` names causes; absent with `--break-glass always`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<fleet::FailureKind>,
    /// What connecting had to say: the connection options' (a password file others can read, a setting
    /// that cannot be honoured) first, then the route's (pgconn holds the last WAL sender slot). The run
    /// says them on stderr as well.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Notes of the route (what the server's settings say about a refusal once it got in).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The two routes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    #[default]
    Normal,
    Replication,
}

impl ConnectionRoute {
    /// The emergency route, taken for `reason`.
    pub fn replication(reason: impl Into<String>) -> ConnectionRoute {
        ConnectionRoute {
            via: Via::Replication,
            reason: Some(reason.into()),
            ..ConnectionRoute::default()
        }
    }

    /// The same, taken because of a refusal of this cause.
    pub fn because(mut self, cause: fleet::FailureKind) -> ConnectionRoute {
        self.cause = Some(cause);
        self
    }

    pub fn is_replication(&self) -> bool {
        self.via == Via::Replication
    }
}

/// What pgconn learns about the server once per connection.
#[derive(Debug, Clone, Serialize)]
pub struct ServerFacts {
    pub version: String,
    pub version_num: i32,
    pub max_connections: i32,
    pub superuser_reserved_connections: i32,
    /// `reserved_connections` (PostgreSQL 16+); None before 16.
    pub reserved_connections: Option<i32>,
    #[serde(skip)]
    pub backend_pid: i32,
    pub current_user: String,
    pub database: String,
    pub is_superuser: bool,
    pub can_read_all_stats: bool,
    pub can_signal_backend: bool,
    /// pg_file_settings is readable (superusers, or a GRANT): the configuration files' values.
    pub can_read_file_settings: bool,
    /// The managed platform, as detected (or named by `--platform`).
    #[serde(skip)]
    pub platform: platform::PlatformInfo,
    /// RDS's `rds.rds_superuser_reserved_connections`, when the server has it (as an integer).
    #[serde(skip)]
    pub rds_superuser_reserved_connections: Option<i32>,
}

impl ServerFacts {
    /// Slots an ordinary role can use: max_connections minus the reserved ones.
    pub fn usable_slots(&self) -> i32 {
        self.max_connections
            - self.superuser_reserved_connections
            - self.reserved_connections.unwrap_or(0)
    }
}

/// One client session (its Default: nothing known, for a reader to fill).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Session {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    /// Client address, `local` for a unix socket; None when not visible to this role.
    pub client: Option<String>,
    pub client_port: Option<i32>,
    /// None when this role may not see the session's state (lacks pg_read_all_stats). JSON has the
    /// snake_case key.
    pub state: Option<State>,
    pub backend_start: Option<String>,
    /// When the current (or last) query started; RFC 3339, as `backend_start`.
    pub query_start: Option<String>,
    pub connected_seconds: Option<f64>,
    pub state_seconds: Option<f64>,
    pub transaction_seconds: Option<f64>,
    pub query_seconds: Option<f64>,
    pub never_queried: bool,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    /// The pids holding the lock this session waits for (`pg_blocking_pids`, each once, sorted); asked
    /// only of a session waiting on a lock (`wait_event_type` `Lock`), empty otherwise. 0 is a prepared
    /// transaction (no session holds it: see the report's `prepared_transactions`).
    pub blocked_by: Vec<i32>,
    /// The root of the chain of sessions blocking this one (`sessions --blocked` only): a blocker that
    /// waits for nobody itself. None when the chain is a cycle (a deadlock the server is about to break).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_blocker: Option<i32>,
    /// Age in transactions of the snapshot this session holds (holds back vacuum).
    pub xmin_age: Option<i32>,
    pub superuser: bool,
    /// pgconn's role has the privileges of the session's role (may signal it without pg_signal_backend).
    #[serde(skip)]
    pub own_role: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub visible: bool,
    /// A server connection of the PgBouncer given with --pgbouncer (its pool keeps it; not a leak).
    pub via_pgbouncer: bool,
    /// The client process behind the session (`sessions --processes`): `client_pid`, `client_user`,
    /// `client_command`, `client_process_status`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub process: Option<ClientProcess>,
    /// The server's `query_id` of the last statement (14+; NULL unless compute_query_id computes it).
    #[serde(skip)]
    pub query_id: Option<i64>,
    /// The query text is as long as track_activity_query_size keeps: the server cut it.
    #[serde(skip)]
    pub query_cut: bool,
    /// The last statement's fingerprint (`sessions --by-statement`): `statement`, `statement_source`,
    /// `statement_text`, `statement_cut`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementFingerprint>,
}

/// Where a session's statement fingerprint comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementSource {
    /// The server's `query_id` (compute_query_id on, or auto with pg_stat_statements loaded).
    QueryId,
    /// A hash of the normalised text (literals, comments, numbers masked; whitespace folded).
    Text,
    /// The session has not run a statement since it connected.
    NeverQueried,
    /// This role may not see the session's statement (other role, no pg_read_all_stats).
    NotVisible,
}

/// A session's last statement as a group key: sessions resting on the same statement share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementFingerprint {
    /// 16 hexadecimal digits (the query_id, or FNV-1a of the normalised text); `never_queried` or
    /// `not_visible` for those sessions.
    pub statement: String,
    pub statement_source: StatementSource,
    /// The normalised text (literals masked, never the values): untrusted, escaped when shown.
    pub statement_text: Option<String>,
    /// The server cut the text at track_activity_query_size: what follows is unknown.
    pub statement_cut: bool,
}

/// Whether the client process of a session was found on this host, and if not, why not: never a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientProcessStatus {
    /// The process holding the client's end of the connection.
    Found,
    /// The client's end is not on this host (in this network namespace): a client on another machine.
    NotLocal,
    /// The server's end of the connection is not in pgconn's network namespace (a server in a container,
    /// pgconn outside it, or the other way round): its sockets cannot be seen from here.
    OtherNetworkNamespace,
    /// The process, or the backend's socket, belongs to another OS user and pgconn is not root (or the
    /// session is another role's and this role cannot see its client address).
    NoPermission,
    /// The connection or the process ended while pgconn looked.
    Gone,
}

impl ClientProcessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientProcessStatus::Found => "found",
            ClientProcessStatus::NotLocal => "not_local",
            ClientProcessStatus::OtherNetworkNamespace => "other_network_namespace",
            ClientProcessStatus::NoPermission => "no_permission",
            ClientProcessStatus::Gone => "gone",
        }
    }
}

/// The client process behind a session, as /proc shows it (untrusted text: argv is the client's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientProcess {
    pub client_pid: Option<i32>,
    /// The process's OS user (its name, else its uid).
    pub client_user: Option<String>,
    /// Its arguments, quoted for a shell where they need it.
    pub client_command: Option<String>,
    /// The program: the last part of its first argument (`psql`, `php-fpm: pool www`), what
    /// `status --by process` groups by.
    pub client_program: Option<String>,
    pub client_process_status: ClientProcessStatus,
}

impl ClientProcess {
    /// Not found, for this reason.
    pub fn unresolved(status: ClientProcessStatus) -> ClientProcess {
        ClientProcess {
            client_pid: None,
            client_user: None,
            client_command: None,
            client_program: None,
            client_process_status: status,
        }
    }
}

/// The warning for sessions of other roles this role cannot see, with the GRANT that fixes it; `effect`
/// says what the command leaves out because of them.
pub fn not_visible_warning(n: usize, role: &str, effect: &str) -> String {
    format!(
        "{n} session(s) of other roles are not visible to role \"{role}\" ({effect}). Fix: GRANT \
         pg_read_all_stats TO \"{}\";",
        role.replace('"', "\"\"")
    )
}

/// A name in SQL's double quotes, embedded quotes doubled: how hints print a role or database name
/// (`ALTER ROLE "app" CONNECTION LIMIT <n>`).
pub fn sql_name(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a word for a shell only when it needs it (the commands and exports reports suggest, to be
/// copied as printed): shlex's quoting holds in sh, bash, zsh and fish alike, where plain single quotes
/// do not (fish reads `\\` inside them, zsh expands a bare `=word`). A NUL byte cannot be part of an
/// argument, a path or a PostgreSQL name: it is dropped.
pub fn shell_quote(s: &str) -> String {
    let word = s.replace('\0', "");
    // A NUL is the one thing shlex refuses, and it is gone.
    shlex::try_quote(&word).map_or_else(|_| String::new(), |q| q.into_owned())
}

/// PostgreSQL's time units, largest first, in nanoseconds (the only ones it accepts: no `m`, no compound
/// values).
pub const PG_TIME_UNITS: [(&str, i128); 6] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("min", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
];

/// An amount in the largest of `units` (largest first, with their sizes) that holds it exactly
/// (`300000ms` → `5min`, `1048576kB` → `1GB`); `0` for nothing; None when no unit divides it.
pub fn in_largest_unit(amount: i128, units: &[(&str, i128)]) -> Option<String> {
    if amount == 0 {
        return Some("0".into());
    }
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.abs();
    units
        .iter()
        .find(|(_, size)| a % size == 0)
        .map(|(u, size)| format!("{sign}{}{u}", a / size))
}

/// A duration written to be typed back in, to pgconn or to PostgreSQL (a command pgconn suggests, an
/// option or threshold it repeats): a whole number of the largest PostgreSQL unit that writes it
/// exactly (`5min`, `30s`, `1500ms`, `0s`); less than a microsecond is dropped. Ages for people reading
/// are [`age`].
pub fn typed_duration(d: std::time::Duration) -> String {
    let ns = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
    match in_largest_unit(ns - ns % 1_000, &PG_TIME_UNITS) {
        Some(t) if t != "0" => t,
        _ => "0s".into(),
    }
}

/// Compact human age: 45s, 12m03s, 3h12m, 2d04h (reasons and findings are written with it): the one
/// formatter of ages for people reading; durations to be typed back in are [`typed_duration`].
pub fn age(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-".into();
    }
    let s = seconds.floor() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// [`age`], `-` when unknown.
pub fn opt_age(seconds: Option<f64>) -> String {
    seconds.map(age).unwrap_or_else(|| "-".into())
}

/// Round to one decimal for JSON percentages and ages.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Round to millisecond precision for JSON ages.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_read_back_as_they_were_by_every_shell() {
        assert_eq!(shell_quote("alice"), "alice");
        assert_eq!(
            shell_quote("/var/lib/postgresql/15/main"),
            "/var/lib/postgresql/15/main"
        );
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("nul\0byte"), "nulbyte");
        let words = [
            "",
            "it's me",
            "=ls",
            "~root",
            r"C:\data\",
            r"a\'b",
            "$HOME `id` \"x\"",
            "a;rm -rf /",
            "!1 ^x *? [a] {b,c} #d %e",
            "tab\there\nnewline",
            "日本語 é",
        ];
        // The completion tests drive the same shells: CI installs all four.
        for shell in ["sh", "bash", "zsh", "fish"] {
            for w in words {
                let out = std::process::Command::new(shell)
                    .arg("-c")
                    .arg(format!("printf '%s' {}", shell_quote(w)))
                    .output()
                    .unwrap_or_else(|e| panic!("{shell} is needed for this test: {e}"));
                assert!(out.status.success(), "{shell}: {:?}", shell_quote(w));
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    w,
                    "{shell} read {} back differently",
                    shell_quote(w)
                );
            }
        }
    }

    #[test]
    fn ages_are_compact() {
        assert_eq!(age(0.4), "0s");
        assert_eq!(age(59.9), "59s");
        assert_eq!(age(60.0), "1m00s");
        assert_eq!(age(725.0), "12m05s");
        assert_eq!(age(3600.0 * 3.0 + 720.0), "3h12m");
        assert_eq!(age(86_400.0 * 2.0 + 3600.0 * 4.0), "2d04h");
        assert_eq!(age(-1.0), "-");
    }

    #[test]
    fn typed_durations_in_postgresql_units() {
        use std::time::Duration;
        assert_eq!(typed_duration(Duration::from_secs(300)), "5min");
        assert_eq!(typed_duration(Duration::from_secs(30)), "30s");
        assert_eq!(typed_duration(Duration::from_secs(90)), "90s");
        assert_eq!(typed_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(typed_duration(Duration::from_secs(86_400 * 3650)), "3650d");
        assert_eq!(typed_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(typed_duration(Duration::from_nanos(1_500)), "1us");
        assert_eq!(typed_duration(Duration::ZERO), "0s");
        assert_eq!(typed_duration(Duration::from_nanos(999)), "0s");
    }

    #[test]
    fn one_order_of_levels_critical_beats_warning_beats_unknown() {
        assert_eq!(Level::worst([Level::Ok, Level::Unknown]), Level::Unknown);
        assert_eq!(
            Level::worst([Level::Unknown, Level::Warning]),
            Level::Warning
        );
        assert_eq!(
            Level::worst([Level::Warning, Level::Critical, Level::Ok]),
            Level::Critical
        );
        assert_eq!(Level::worst([Level::Ok, Level::Ok]), Level::Ok);
        assert_eq!(Level::worst([]), Level::Unknown);
        assert_eq!(Level::Unknown.nagios_code(), 3);
        assert!(Level::Unknown < Level::Warning && Level::Ok < Level::Unknown);
    }
}
