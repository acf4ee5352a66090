//! `pgconn kill-idle` and `pgconn kill`: the plan (what matched, what is left alone and why, the targets) and
//! what happened to each target, observed on the server.

use serde::Serialize;
use std::collections::BTreeMap;

use super::batch::BatchRun;
use super::{Session, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    #[default]
    Terminate,
    Cancel,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Terminate => "Terminate",
            Action::Cancel => "Cancel the queries of",
        }
    }
}

/// At most this many applications (or, for `rescue`, users and databases) are named in the note on what
/// the clients of the targets receive; the rest are counted.
pub const CLIENTS_NAMED: usize = 10;

/// What the client of a terminated session receives (pg_terminate_backend and SIGTERM alike), and what
/// it breaks: an application whose pool has no handler for an error on an idle connection crashes.
pub const TERMINATED_CLIENTS_RECEIVE: &str = "SQLSTATE 57P01 (\"terminating connection due to \
     administrator command\"), on which some connection pools crash unless the application handles pool \
     errors (node-postgres without an \"error\" listener on its Pool: node-postgres issues #1707, #2762)";

/// What the client of a cancelled session receives: its query fails, its connection stays.
pub const CANCELLED_CLIENTS_RECEIVE: &str = "SQLSTATE 57014 (\"canceling statement due to user \
     request\") for the running query and keep their connections (no pool loses one, but the \
     application sees that query fail)";

/// `"leaky-worker" (3 sessions), "api" (1 session), 2 others (5 sessions)`: each name with what it counts,
/// in the order given, at most [`CLIENTS_NAMED`] named. `noun` is (one, many).
pub fn counted_names(named: &[(String, usize)], noun: (&str, &str)) -> Vec<String> {
    let of = |n: usize| format!("{n} {}", if n == 1 { noun.0 } else { noun.1 });
    let mut parts: Vec<String> = named
        .iter()
        .take(CLIENTS_NAMED)
        .map(|(name, n)| format!("{name} ({})", of(*n)))
        .collect();
    if let Some(rest) = named.get(CLIENTS_NAMED..).filter(|r| !r.is_empty()) {
        parts.push(format!(
            "{} other{} ({})",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            of(rest.iter().map(|(_, n)| n).sum())
        ));
    }
    parts
}

impl Action {
    /// The note on what the clients of `targets` receive when acted on, naming their applications (the
    /// most sessions first; sessions without an application_name are counted as such). None without
    /// targets.
    pub fn clients_note(self, targets: &[KillTarget]) -> Option<String> {
        if targets.is_empty() {
            return None;
        }
        let mut by_app: BTreeMap<&str, usize> = BTreeMap::new();
        let mut unnamed = 0;
        for t in targets {
            match t.session.application.as_str() {
                "" => unnamed += 1,
                app => *by_app.entry(app).or_default() += 1,
            }
        }
        let mut named: Vec<(String, usize)> = by_app
            .into_iter()
            .map(|(app, n)| (format!("\"{app}\""), n))
            .collect();
        // The most sessions first; names in order among equals (the map's order, kept by a stable sort).
        named.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let mut apps = counted_names(&named, ("session", "sessions"));
        if unnamed > 0 {
            apps.push(format!(
                "{unnamed} session{} without an application_name",
                if unnamed == 1 { "" } else { "s" }
            ));
        }
        let receive = match self {
            Action::Terminate => TERMINATED_CLIENTS_RECEIVE,
            Action::Cancel => CANCELLED_CLIENTS_RECEIVE,
        };
        Some(format!(
            "the clients of the targeted sessions receive {receive}; their applications: {}",
            apps.join(", ")
        ))
    }
}

/// Why a session that matches is left alone. Decided by the server (`protection.sql`) and parsed here,
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// `--cancel` of a session that is not running a query: there is nothing to cancel.
    NotRunning,
    Superuser,
    ProtectApp,
    ProtectUser,
    /// A server connection of the PgBouncer given with `--pgbouncer`.
    Pooler,
    /// Its last statement was LISTEN.
    Listener,
    /// It holds advisory locks.
    AdvisoryLock,
    /// It has temporary tables.
    TempTables,
    /// A managed platform's own administrative role (`rdsadmin`, …): `--include-provider`.
    Provider,
}

impl Protection {
    /// "LISTEN listener", "of a superuser": what a session is, for skip reasons ("it is now one ...").
    pub fn singular(self) -> &'static str {
        match self {
            Protection::NotRunning => "not running a query",
            Protection::Superuser => "of a superuser",
            Protection::ProtectApp => "protected by --protect-app",
            Protection::ProtectUser => "protected by --protect-user",
            Protection::Pooler => "of PgBouncer's server connections",
            Protection::Listener => "LISTEN listener",
            Protection::AdvisoryLock => "holding advisory locks",
            Protection::TempTables => "with temporary tables",
            Protection::Provider => "of the provider's own admin role",
        }
    }

    pub fn parse(s: &str) -> Option<Protection> {
        Some(match s {
            "not_running" => Protection::NotRunning,
            "superuser" => Protection::Superuser,
            "protect_app" => Protection::ProtectApp,
            "protect_user" => Protection::ProtectUser,
            "pooler" => Protection::Pooler,
            "listener" => Protection::Listener,
            "advisory_lock" => Protection::AdvisoryLock,
            "temp_tables" => Protection::TempTables,
            "provider" => Protection::Provider,
            _ => return None,
        })
    }

    /// What it is, for "left alone: 3 ..." and skip reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Protection::NotRunning => "not running a query",
            Protection::Superuser => "of superusers",
            Protection::ProtectApp => "protected by --protect-app",
            Protection::ProtectUser => "protected by --protect-user",
            Protection::Pooler => "PgBouncer server connections",
            Protection::Listener => "LISTEN listeners",
            Protection::AdvisoryLock => "holding advisory locks",
            Protection::TempTables => "with temporary tables",
            Protection::Provider => "of the managed platform's own admin roles",
        }
    }

    /// The option that includes them, if any.
    pub fn include_flag(self) -> Option<&'static str> {
        match self {
            Protection::NotRunning | Protection::ProtectApp | Protection::ProtectUser => None,
            Protection::Superuser => Some("--include-superusers"),
            Protection::Pooler => Some("--include-pooler"),
            Protection::Listener => Some("--include-listeners"),
            Protection::AdvisoryLock => Some("--include-lock-holders"),
            Protection::TempTables => Some("--include-temp-holders"),
            Protection::Provider => Some("--include-provider"),
        }
    }

    /// Why it matters, for the preview.
    pub fn why(self) -> Option<&'static str> {
        match self {
            Protection::Pooler => {
                Some("in session pooling each one carries a live client of the pooler")
            }
            Protection::Listener => Some(
                "a terminated listener silently misses NOTIFYs (recognised by its last statement being \
                 LISTEN: PostgreSQL shows no other session's channels)",
            ),
            Protection::AdvisoryLock => {
                Some("job queues, migration runners and leader elections lose their lock")
            }
            Protection::TempTables => Some("their data goes with the session"),
            Protection::Provider => Some(
                "the provider's own sessions (monitoring, backups, replication of the managed service)",
            ),
            _ => None,
        }
    }
}

/// A session the plan will act on.
#[derive(Debug, Clone, Serialize)]
pub struct KillTarget {
    #[serde(flatten)]
    pub session: Session,
    /// Whether pgconn's role may signal it, as far as the catalogs tell (the server has the last word).
    pub allowed: bool,
    /// `kill --blockers`: what makes it a target (`blocking`, `state_change`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub blocker: Option<HeadBlocker>,
}

/// A head blocker as the plan saw it (`kill --blockers`): the sessions it blocks, and when its state last
/// changed, which the signalling statement compares (a head that ran a statement since is skipped).
#[derive(Debug, Clone, Serialize)]
pub struct HeadBlocker {
    /// The pids waiting behind it (directly or further down the chain), each once, sorted.
    pub blocking: Vec<i32>,
    /// pg_stat_activity.state_change, RFC 3339 in UTC with microseconds.
    pub state_change: Option<String>,
}

/// What `kill --blockers` saw besides its targets: the sessions waiting on a lock, and what it never acts on.
#[derive(Debug, Clone, Serialize, Default)]
pub struct BlockersPlan {
    /// Client sessions waiting on a lock that someone holds (all of them, whatever the filters).
    pub waiting: usize,
    /// Sessions waiting for a prepared transaction (pid 0 in pg_blocking_pids): no session holds it.
    pub waiting_on_prepared: Vec<i32>,
    /// The prepared transactions on the server, oldest first (only when a session waits for one): which
    /// one holds the lock is not told, so each is a candidate. Never acted on.
    pub prepared_transactions: Vec<PreparedCandidate>,
    /// Heads that are no client session (a background worker, a WAL sender): never acted on.
    pub heads_not_client: Vec<i32>,
    /// Heads of chains a visible session waits on that are sessions of other roles this role cannot see
    /// (no pg_read_all_stats), whatever the filters: never acted on; they are what `not_visible` counts
    /// under `--blockers` (as far as the filters can tell).
    pub heads_not_visible: Vec<i32>,
}

/// A prepared transaction a waiting session may wait for, with the statements a DBA would consider (run
/// in its database, as its owner or a superuser).
#[derive(Debug, Clone, Serialize)]
pub struct PreparedCandidate {
    #[serde(flatten)]
    pub transaction: super::sessions::PreparedTransaction,
    pub rollback: String,
    pub commit: String,
}

/// A matching session the plan leaves alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftAlone {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub state: Option<State>,
    pub protection: Protection,
}

/// Matching sessions left alone, per reason (`--keep`, `--max` and hidden sessions are counted apart).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Protected {
    pub superuser: usize,
    pub protect_app: usize,
    pub protect_user: usize,
    pub pooler: usize,
    pub listener: usize,
    pub advisory_lock: usize,
    pub temp_tables: usize,
    pub not_running: usize,
    /// Sessions of a managed platform's own admin roles (`protection: provider`).
    pub provider: usize,
}

impl Protected {
    pub fn add(&mut self, p: Protection) {
        *self.slot(p) += 1;
    }

    fn slot(&mut self, p: Protection) -> &mut usize {
        match p {
            Protection::NotRunning => &mut self.not_running,
            Protection::Superuser => &mut self.superuser,
            Protection::ProtectApp => &mut self.protect_app,
            Protection::ProtectUser => &mut self.protect_user,
            Protection::Pooler => &mut self.pooler,
            Protection::Listener => &mut self.listener,
            Protection::AdvisoryLock => &mut self.advisory_lock,
            Protection::TempTables => &mut self.temp_tables,
            Protection::Provider => &mut self.provider,
        }
    }

    pub fn get(&self, p: Protection) -> usize {
        match p {
            Protection::NotRunning => self.not_running,
            Protection::Superuser => self.superuser,
            Protection::ProtectApp => self.protect_app,
            Protection::ProtectUser => self.protect_user,
            Protection::Pooler => self.pooler,
            Protection::Listener => self.listener,
            Protection::AdvisoryLock => self.advisory_lock,
            Protection::TempTables => self.temp_tables,
            Protection::Provider => self.provider,
        }
    }
}

/// What happened to one target, observed on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Signalled, and gone from pg_stat_activity within `--wait`.
    Terminated,
    /// Signalled, and no longer running the query it ran.
    Cancelled,
    /// Signalled, but still there (still running its query, for a cancel) after `--wait`.
    Signalled,
    /// Not signalled: it no longer qualified at the moment of action (see `skip`).
    Skipped,
    /// The server refused: this role may not signal it.
    Denied,
    Failed,
    /// The connection was lost or the statement failed while it was being signalled: it may or may not
    /// have been signalled.
    Unknown,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Terminated => "terminated",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::Signalled => "signalled",
            OutcomeKind::Skipped => "skipped",
            OutcomeKind::Denied => "denied",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Unknown => "unknown",
        }
    }
}

/// Why a target was skipped at the moment of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The session ended after the preview.
    Gone,
    /// The pid belongs to another session now (backend_start differs).
    Replaced,
    /// It no longer matches the selection (became active, changed state, too young).
    Changed,
    /// It now matches a protection rule (see `protection`).
    Protected,
    /// `--keep`: sessions kept in its group ended since the preview; this one stays instead.
    Kept,
    /// Not a backend any more when the signal was to be sent.
    NotSignalled,
    /// `kill --blockers`: the head ran a statement after the preview (its state or state_change moved):
    /// it may no longer hold the locks shown.
    RanSince,
    /// `kill --blockers`: it no longer blocks any session waiting on a lock.
    NotBlocking,
    /// `rescue`: at the moment of action nothing showed its title to be current any more (the
    /// configuration changed since the preview, and the kernel does not show it waiting for its
    /// client).
    Untrusted,
}

/// The outcome of one target.
#[derive(Debug, Clone, Serialize)]
pub struct SessionOutcome {
    pub pid: i32,
    pub backend_start: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// State and age when previewed.
    pub state: Option<State>,
    pub state_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub outcome: OutcomeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
    pub reason: Option<String>,
    /// State at the moment of action, or after the wait when still present.
    pub state_now: Option<State>,
    /// When the signalling statement handled it (server clock).
    pub at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub sessions: usize,
    pub oldest_state_seconds: Option<f64>,
}

/// The server's own state counts around the signalling: `before` and `after` in kill's report, between its
/// summary and its log.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StateCounts {
    pub before: Option<BTreeMap<String, i64>>,
    pub after: Option<BTreeMap<String, i64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KillReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    pub action: Action,
    pub dry_run: bool,
    /// Visible sessions that matched the selection (before protection, --keep and --max).
    pub matched: usize,
    /// Sessions of other roles this role cannot see (no pg_read_all_stats) that may match: never acted on.
    pub not_visible: usize,
    pub protected: Protected,
    pub left_alone: Vec<LeftAlone>,
    pub kept: usize,
    pub capped: usize,
    pub if_more_than: Option<usize>,
    /// False when --if-more-than was not exceeded (nothing is done).
    pub threshold_met: bool,
    /// `kill --blockers` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blockers: Option<BlockersPlan>,
    pub targets: Vec<KillTarget>,
    pub groups: Vec<GroupSummary>,
    /// What was signalled and what came of it (`acted` once sessions were signalled: not a dry run,
    /// confirmed, threshold met), with the server's counts before and after.
    #[serde(flatten)]
    pub run: BatchRun<SessionOutcome, StateCounts>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(apps: &[(&str, usize)]) -> Vec<KillTarget> {
        apps.iter()
            .flat_map(|(app, n)| {
                (0..*n).map(move |_| KillTarget {
                    session: Session {
                        application: app.to_string(),
                        ..Session::default()
                    },
                    allowed: true,
                    blocker: None,
                })
            })
            .collect()
    }

    #[test]
    fn the_clients_note_names_the_applications_the_most_sessions_first() {
        assert_eq!(Action::Terminate.clients_note(&[]), None);
        let note = Action::Terminate
            .clients_note(&targets(&[("b", 1), ("", 2), ("a", 1), ("web", 3)]))
            .unwrap();
        assert!(note.contains("SQLSTATE 57P01"), "{note}");
        assert!(
            note.ends_with(
                "their applications: \"web\" (3 sessions), \"a\" (1 session), \"b\" (1 session), 2 \
                 sessions without an application_name"
            ),
            "{note}"
        );
        let cancel = Action::Cancel
            .clients_note(&targets(&[("report", 1)]))
            .unwrap();
        assert!(
            cancel.contains("SQLSTATE 57014") && !cancel.contains("57P01"),
            "{cancel}"
        );
        assert!(cancel.ends_with("\"report\" (1 session)"), "{cancel}");
    }

    #[test]
    fn past_ten_applications_the_rest_are_counted() {
        let many: Vec<(String, usize)> = (0..13).map(|i| (format!("app{i:02}"), 1)).collect();
        let apps: Vec<(&str, usize)> = many.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        let note = Action::Terminate.clients_note(&targets(&apps)).unwrap();
        assert!(note.contains("\"app09\" (1 session)"), "{note}");
        assert!(!note.contains("app10"), "{note}");
        assert!(note.ends_with(", 3 others (3 sessions)"), "{note}");
    }
}
