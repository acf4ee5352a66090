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
}

impl GroupKey {
    pub const ALL: [GroupKey; 5] = [
        GroupKey::Database,
        GroupKey::User,
        GroupKey::Application,
        GroupKey::Client,
        GroupKey::State,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Database => "database",
            GroupKey::User => "user",
            GroupKey::Application => "application",
            GroupKey::Client => "client",
            GroupKey::State => "state",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub server: ServerInfo,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub status: Level,
    pub reasons: Vec<String>,
}

impl Capacity {
    /// "23 of 22 ordinary slots used, 0 left — 1 session is in the slots reserved for superusers and
    /// pg_use_reserved_connections (4 of 5 still free)", or "10 of 97 ... (10%), 87 left".
    pub fn describe(&self) -> String {
        if self.in_reserved_slots > 0 {
            let pools = if self.reserved_connections.is_some_and(|r| r > 0) {
                "superusers and pg_use_reserved_connections members"
            } else {
                "superusers"
            };
            let n = self.in_reserved_slots;
            format!(
                "{} of {} slots ordinary roles can use are taken, 0 left: {n} more session{} {} in the slots \
                 reserved for {pools} ({} of {} still free)",
                self.usable_slots,
                self.usable_slots,
                if n == 1 { "" } else { "s" },
                if n == 1 { "is" } else { "are" },
                self.reserved_slots_left,
                i64::from(self.max_connections - self.usable_slots)
            )
        } else {
            format!(
                "{} of {} slots ordinary roles can use are taken ({:.0}%), {} left",
                self.used, self.usable_slots, self.used_percent, self.slots_left
            )
        }
    }
}
