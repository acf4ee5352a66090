//! `pgconn status`: how full the server is, sessions per state, idle ages, who holds the connections, and
//! a verdict with its reasons.

use std::collections::BTreeMap;

use serde::Serialize;

use super::pgbouncer::PgbouncerSnapshot;
use super::Level;

/// A grouping key of `status --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    Database,
    User,
    Application,
    Client,
    State,
    /// The client process's program on this host (`psql`, `php-fpm: pool www`), or why it was not
    /// found: needs one row per session from the server, and /proc.
    Process,
    /// The last statement's fingerprint (the server's query_id, else a hash of the normalised text):
    /// needs the statement's text from the server, one row per distinct text.
    Statement,
}

impl GroupKey {
    pub const ALL: [GroupKey; 7] = [
        GroupKey::Database,
        GroupKey::User,
        GroupKey::Application,
        GroupKey::Client,
        GroupKey::State,
        GroupKey::Process,
        GroupKey::Statement,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Database => "database",
            GroupKey::User => "user",
            GroupKey::Application => "application",
            GroupKey::Client => "client",
            GroupKey::State => "state",
            GroupKey::Process => "process",
            GroupKey::Statement => "statement",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub server: ServerInfo,
    /// The managed platform the server runs on (name null when none was detected).
    pub platform: crate::report::platform::PlatformInfo,
    pub capacity: Capacity,
    /// Sessions counted (matching the filters; pgconn's own left out).
    pub sessions: usize,
    /// Sessions per state, snake_case keys; every known state is present.
    pub states: BTreeMap<String, usize>,
    /// Sessions whose state this role cannot see (no pg_read_all_stats).
    pub not_visible: usize,
    pub idle: IdleStats,
    pub oldest_transaction_seconds: Option<f64>,
    pub oldest_idle_in_transaction_seconds: Option<f64>,
    /// The session idle in transaction the longest (of those this role can see), by name.
    pub oldest_idle_in_transaction: Option<IdleTransaction>,
    /// Matching sessions waiting on a lock that another session (or a prepared transaction) holds.
    pub blocked_sessions: usize,
    /// The head of the most blocked sessions' chains: a blocker that waits for nobody (often idle in
    /// transaction). None when nothing is blocked (or every chain is a cycle).
    pub head_blocker: Option<HeadBlocker>,
    pub group_by: Vec<&'static str>,
    pub groups: Vec<Group>,
    pub groups_total: usize,
    pub leak_suspects: Vec<LeakSuspect>,
    pub verdict: Verdict,
    pub warnings: Vec<String>,
    /// PgBouncer's side, with --pgbouncer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<PgbouncerSnapshot>,
    /// Sessions that are server connections of that PgBouncer.
    pub via_pgbouncer: usize,
    /// postgres_exporter's counts of the same snapshot, when asked for (Prometheus output only).
    #[serde(skip)]
    pub activity_counts: Option<Vec<ActivityCount>>,
    /// Client sessions (matching the filters) that started less than 10 seconds ago: a connection
    /// storm when they are a large share.
    pub new_sessions: NewSessions,
    /// pg_stat_database's session counters per database, when they were read (watch, advise, the
    /// Prometheus output; PostgreSQL 14+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_counters: Option<Vec<SessionCounters>>,
    /// Every role and database with a connection limit, with the sessions the server checks it against.
    pub limits: Limits,
    /// Every role's and every database's limit as the catalogs hold it (-1 included), when the statement
    /// read them all (Prometheus output only: postgres_exporter's `pg_roles_connection_limit` and
    /// `pg_database_connection_limit`).
    #[serde(skip)]
    pub limit_rows: Option<LimitRows>,
}

/// How many client sessions are younger than [`NewSessions::YOUNGER_THAN_SECONDS`] (`backend_start`).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct NewSessions {
    pub younger_than_seconds: u32,
    pub sessions: usize,
    /// Of the client sessions counted (0 when there are none).
    pub share_percent: f64,
    /// Above --storm-share of at least [`NewSessions::STORM_MIN_SESSIONS`] sessions.
    pub storm: bool,
}

impl NewSessions {
    /// What "new" means (status.sql's cut-off).
    pub const YOUNGER_THAN_SECONDS: u32 = 10;
    /// A storm needs at least this many client sessions: a share of a handful says nothing.
    pub const STORM_MIN_SESSIONS: usize = 20;
}

/// pg_stat_database's session counters of one database (PostgreSQL 14+), as the server counts them:
/// client backends only; cumulative since `stats_reset` (RFC 3339; none when never reset).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
pub struct SessionCounters {
    pub database: String,
    /// Sessions started.
    pub sessions: i64,
    /// Ended without a Terminate message: the client closed the socket or died.
    pub abandoned: i64,
    /// Ended by a FATAL error (idle_session_timeout and idle_in_transaction_session_timeout included).
    pub fatal: i64,
    /// Ended by SIGTERM (pg_terminate_backend, `pgconn kill`, `pgconn rescue`).
    pub killed: i64,
    pub session_time_seconds: f64,
    pub active_time_seconds: f64,
    pub idle_in_transaction_time_seconds: f64,
    pub stats_reset: Option<String>,
}

/// Connection limits (`pg_roles.rolconnlimit`, `pg_database.datconnlimit`) with the sessions the server
/// counts against them: its client backends of that role / in that database, pgconn's own included, the
/// filters not applied (the server does not apply them either).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Limits {
    pub roles: Vec<RoleLimit>,
    pub databases: Vec<DatabaseLimit>,
    /// The verdict's reasons about them, each with its level (status's verdict and check's line read
    /// them: `analysis::limits`).
    #[serde(skip)]
    pub reasons: Vec<(Level, String)>,
}

/// A role with a CONNECTION LIMIT.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleLimit {
    pub user: String,
    /// 0 and up (-1, no limit, is not listed).
    pub limit: i32,
    pub sessions: usize,
    /// A superuser's limit is not enforced: shown, never at the limit.
    pub superuser: bool,
    /// The application holding the most of the role's sessions ("" for none set), None with no session.
    pub largest_application: Option<String>,
    pub largest_application_sessions: usize,
    /// OK, WARNING at 90 % of the limit, CRITICAL at the limit (always OK for a superuser).
    pub status: Level,
}

/// A database with a CONNECTION LIMIT, or left invalid by an interrupted DROP DATABASE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseLimit {
    pub database: String,
    /// 0 and up; None for an invalid database (datconnlimit -2, which is no limit).
    pub limit: Option<i32>,
    /// datconnlimit = -2: an interrupted DROP DATABASE left it; it accepts no connection, and DROP
    /// DATABASE removes it.
    pub invalid: bool,
    pub sessions: usize,
    pub largest_application: Option<String>,
    pub largest_application_sessions: usize,
    /// OK, WARNING at 90 % of the limit, CRITICAL at the limit (superusers' sessions count, as the
    /// server counts them, though a superuser is never refused).
    pub status: Level,
}

/// The limits as the status statement reads them: every row of the catalogs with `$all_limits`,
/// otherwise only those with a limit (or invalid).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LimitRows {
    pub roles: Vec<LimitRow>,
    pub databases: Vec<LimitRow>,
}

/// One role or database as the status statement reads it; `sessions` counted for those with a limit only.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LimitRow {
    #[serde(alias = "user", alias = "database")]
    pub name: String,
    /// As the catalog holds it: -1 no limit, -2 an invalid database.
    pub limit: i32,
    #[serde(default)]
    pub superuser: bool,
    pub sessions: usize,
    pub largest_application: Option<String>,
    pub largest_application_sessions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub version: String,
    pub version_num: i32,
    pub current_user: String,
    pub is_superuser: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub max_connections: i32,
    pub superuser_reserved_connections: i32,
    pub reserved_connections: Option<i32>,
    /// Slots ordinary roles can use.
    pub usable_slots: i32,
    /// Client backends in use, pgconn's own included.
    pub used: i64,
    /// Slots still free for ordinary roles (0 when the reserved slots are being used).
    pub slots_left: i64,
    pub used_percent: f64,
    /// Sessions beyond the ordinary slots: they sit in the slots reserved for superusers (and, on 16+,
    /// for members of pg_use_reserved_connections); pgconn's own session may be one of them.
    pub in_reserved_slots: i64,
    /// Reserved slots still free (superuser_reserved_connections + reserved_connections − those in use).
    pub reserved_slots_left: i64,
    /// How the used share compares with --warn-used / --crit-used (OK, WARNING or CRITICAL); the verdict,
    /// the coloured percentage and advise's capacity finding all read it from here.
    #[serde(skip)]
    pub level: Level,
    /// A managed platform's own reserve, counted in `usable_slots` (absent when there is none or no
    /// platform was detected with strong evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_reserve: Option<ProviderReserve>,
}

/// The slots a managed platform keeps for its own roles, and how pgconn counted them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderReserve {
    pub platform: crate::report::platform::Platform,
    /// The provider's number: its setting's value, or the number its documentation gives.
    pub slots: i32,
    /// Where the number comes from: `setting rds.rds_superuser_reserved_connections` or `documented`.
    pub source: String,
    /// `added`: on top of the server's own reserved slots; `larger`: the larger of the provider's
    /// number and the server's own reserve is subtracted once, never both (see the README).
    pub counted: &'static str,
    /// The roles that may use the reserve.
    pub roles: Vec<String>,
    /// Whether the formula is documented by the provider (false: pgconn's reading, see the README).
    pub verified: bool,
}

/// One row of postgres_exporter's `pg_stat_activity_count` / `pg_stat_activity_max_tx_duration`
/// (its labels as it has them since 0.17; NULL is an empty label).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
pub struct ActivityCount {
    pub datname: Option<String>,
    pub state: Option<String>,
    pub usename: Option<String>,
    pub application_name: Option<String>,
    pub backend_type: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub count: i64,
    pub max_tx_duration: f64,
}

/// One session idle in transaction: who holds it, and for how long.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct IdleTransaction {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    /// Its client address, `local` over a unix socket.
    pub client: Option<String>,
    /// Idle in transaction for this long.
    pub idle_seconds: f64,
    /// Its transaction open for this long.
    pub transaction_seconds: Option<f64>,
}

impl IdleTransaction {
    /// "pid 4242, user app, application billing-api, client 10.0.0.5" (the server's text: a renderer
    /// cleans it for a terminal).
    pub fn who(&self) -> String {
        let mut parts = vec![format!("pid {}", self.pid)];
        if let Some(u) = &self.user {
            parts.push(format!("user {}", u));
        }
        if !self.application.is_empty() {
            parts.push(format!("application {}", self.application));
        }
        if let Some(c) = &self.client {
            parts.push(format!("client {}", c));
        }
        parts.join(", ")
    }
}

/// The root of a chain of blocked sessions, by name, with its state and ages.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct HeadBlocker {
    /// 0: a prepared transaction (`sessions` lists them in `prepared_transactions`).
    pub pid: i32,
    pub prepared_transaction: bool,
    /// Blocked sessions whose chain it heads.
    pub blocking: usize,
    /// None for a prepared transaction, or a session this role cannot see.
    pub state: Option<super::State>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// In its state for this long.
    pub state_seconds: Option<f64>,
    /// Its transaction open for this long.
    pub transaction_seconds: Option<f64>,
}

impl HeadBlocker {
    /// "pid 4242 (idle in transaction for 5m03s, user app, application billing-api) blocks 2 session(s)"
    /// (the server's text: a renderer cleans it for a terminal).
    pub fn sentence(&self) -> String {
        if self.prepared_transaction {
            return format!(
                "a prepared transaction (pid 0) blocks {} session(s): `pgconn sessions --blocked --json` lists the candidates (prepared_transactions); COMMIT PREPARED or ROLLBACK PREPARED ends it",
                self.blocking
            );
        }
        let mut parts = Vec::new();
        if let Some(st) = &self.state {
            parts.push(format!(
                "{} for {}",
                st.as_pg(),
                super::opt_age(self.state_seconds)
            ));
        }
        if let Some(u) = &self.user {
            parts.push(format!("user {u}"));
        }
        if !self.application.is_empty() {
            parts.push(format!("application {}", self.application));
        }
        if let Some(c) = &self.client {
            parts.push(format!("client {c}"));
        }
        let who = if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        };
        format!("pid {}{who} blocks {} session(s)", self.pid, self.blocking)
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct IdleStats {
    pub count: usize,
    pub oldest_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    #[serde(flatten)]
    pub key: BTreeMap<&'static str, Option<String>>,
    pub sessions: usize,
    pub states: BTreeMap<String, usize>,
    pub oldest_idle_seconds: Option<f64>,
    pub possible_leak: bool,
    /// With `--by process`: the pids of the client processes behind the group's sessions (each once).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_pids: Vec<i32>,
    /// With `--by statement`: the group's statement, normalised (literals masked) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_text: Option<String>,
    /// ... and whether the server cut it at track_activity_query_size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_cut: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeakSuspect {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub sessions: usize,
    pub idle: usize,
    pub idle_longer_than_threshold: usize,
    pub active: usize,
    pub oldest_idle_seconds: Option<f64>,
    pub share_of_usable_percent: f64,
    pub reason: String,
    /// The last statement most of its idle sessions ran (status and advise, when asked): where in the
    /// application the leak is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<DominantStatement>,
}

/// A leak suspect's dominant statement: "38 of 40 idle sessions last ran `select … where id = ?` (fp
/// 1a2b…)".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DominantStatement {
    #[serde(flatten)]
    pub fingerprint: crate::report::StatementFingerprint,
    /// Idle sessions that last ran it ...
    pub sessions: usize,
    /// ... of the suspect's idle sessions read.
    pub of_idle: usize,
}

impl DominantStatement {
    /// The sentence for people (its text is untrusted: escape it where it is shown).
    pub fn evidence(&self) -> String {
        let f = &self.fingerprint;
        let what = match &f.statement_text {
            Some(t) => {
                let mut short: String = t.chars().take(80).collect();
                if t.chars().count() > 80 || f.statement_cut {
                    short.push('…');
                }
                format!("last ran `{short}` (fp {})", f.statement)
            }
            None => "never ran a statement".into(),
        };
        format!("{} of {} idle sessions {what}", self.sessions, self.of_idle)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub status: Level,
    pub reasons: Vec<String>,
}

impl Capacity {
    /// The capacity in the one sentence every report words it with (the verdict's reasons, status,
    /// watch, check's plugin line, advise, rescue's after-check): "60 of 97 usable slots used (62%), 37
    /// left", or, with sessions in the reserved slots, "22 of 22 usable slots used, 0 left, and 1 more
    /// in the slots reserved for superusers and pg_use_reserved_connections members (4 of 5 still
    /// free)". `percent` writes the percentage (a table colours it by [`Capacity::level`]). It is data's
    /// own words rather than render's because the verdict's reasons, which `--json` carries, say it.
    pub fn sentence(&self, percent: impl Fn(String) -> String) -> String {
        if self.in_reserved_slots > 0 {
            let pools = if self.reserved_connections.is_some_and(|r| r > 0) {
                "superusers and pg_use_reserved_connections members"
            } else {
                "superusers"
            };
            format!(
                "{0} of {0} usable slots used, 0 left, and {1} more in the slots reserved for {pools} ({2} of \
                 {3} still free)",
                self.usable_slots,
                self.in_reserved_slots,
                self.reserved_slots_left,
                i64::from(self.max_connections - self.usable_slots)
            )
        } else {
            format!(
                "{} of {} usable slots used ({}), {} left",
                self.used,
                self.usable_slots,
                percent(format!("{:.0}%", self.used_percent)),
                self.slots_left
            )
        }
    }

    /// [`Capacity::sentence`] as plain text.
    pub fn describe(&self) -> String {
        self.sentence(|p| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(used: i64, usable: i32, max: i32, reserved: Option<i32>) -> Capacity {
        let in_reserved = (used - i64::from(usable)).max(0);
        Capacity {
            max_connections: max,
            superuser_reserved_connections: max - usable - reserved.unwrap_or(0),
            reserved_connections: reserved,
            usable_slots: usable,
            used,
            slots_left: (i64::from(usable) - used).max(0),
            used_percent: crate::report::round1(used as f64 * 100.0 / f64::from(usable)),
            in_reserved_slots: in_reserved,
            reserved_slots_left: i64::from(max - usable) - in_reserved,
            level: Level::Ok,
            provider_reserve: None,
        }
    }

    #[test]
    fn one_sentence_for_the_capacity_in_both_of_its_forms() {
        assert_eq!(
            capacity(60, 97, 100, None).describe(),
            "60 of 97 usable slots used (62%), 37 left"
        );
        assert_eq!(
            capacity(60, 97, 100, None).sentence(|p| format!("<{p}>")),
            "60 of 97 usable slots used (<62%>), 37 left"
        );
        assert_eq!(
            capacity(23, 22, 25, None).describe(),
            "22 of 22 usable slots used, 0 left, and 1 more in the slots reserved for superusers (2 of 3 \
             still free)"
        );
        assert_eq!(
            capacity(47, 45, 50, Some(2)).describe(),
            "45 of 45 usable slots used, 0 left, and 2 more in the slots reserved for superusers and \
             pg_use_reserved_connections members (3 of 5 still free)"
        );
    }
}
