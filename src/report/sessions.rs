//! `pgconn sessions`: one row per client session.

use serde::{Deserialize, Serialize};

use super::Session;

#[derive(Debug, Serialize)]
pub struct SessionsReport {
    pub target: String,
    /// How pgconn reached the server (normal, or the emergency route and why).
    pub connection: crate::report::ConnectionRoute,
    /// Sessions that matched (before --limit).
    pub count: usize,
    /// Of those (before --limit), the ones this role cannot see: other roles' sessions without
    /// pg_read_all_stats.
    pub not_visible: usize,
    pub sessions: Vec<Session>,
    /// With `--processes`: for the sessions whose client is on another host, per group (database, user,
    /// application) and client address (at most five per group), the `ss` command to run on that host
    /// to name the process.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_clients: Vec<RemoteClient>,
    /// With `--by-statement`: the sessions grouped by their last statement's fingerprint, largest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementGroup>,
    /// When a session's `blocked_by` has pid 0, every prepared transaction on the server
    /// (`pg_prepared_xacts`), the candidates it waits for (no session holds one; COMMIT PREPARED or
    /// ROLLBACK PREPARED ends it); otherwise empty (not asked).
    pub prepared_transactions: Vec<PreparedTransaction>,
    pub warnings: Vec<String>,
}

/// The sessions resting on one statement fingerprint (`sessions --by-statement`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementGroup {
    #[serde(flatten)]
    pub fingerprint: crate::report::StatementFingerprint,
    pub sessions: usize,
    /// Sessions per state (the JSON spelling of `states` in status).
    pub states: std::collections::BTreeMap<String, usize>,
}

/// Sessions of one group from one client address on another host, and the command that names their
/// process there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteClient {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: String,
    pub sessions: usize,
    /// `ss -tnp 'dst <server>:<port> and sport = :<client_port>'`, for one of the sessions' client ports.
    pub command: String,
}

/// What comes before the sessions in a [`SessionsReport`]: everything but the sessions and the warnings.
#[derive(Debug, Clone)]
pub struct SessionsHead {
    pub target: String,
    pub connection: crate::report::ConnectionRoute,
    pub count: usize,
    pub not_visible: usize,
}

/// A prepared transaction (`PREPARE TRANSACTION`): it holds its locks with no session behind it, which
/// `pg_blocking_pids` reports as pid 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedTransaction {
    pub gid: String,
    pub owner: Option<String>,
    pub database: Option<String>,
    /// Since it was prepared.
    pub age_seconds: Option<f64>,
}

/// Where a [`SessionsReport`] goes while it is read, in its own order: the head, each session as it
/// arrives (a value reused for the next one: keep what is needed, not the reference), then the warnings.
/// Writing `--json` this way holds one session at a time, not thousands.
pub trait SessionsSink {
    fn head(&mut self, head: &SessionsHead) -> std::io::Result<()>;
    fn session(&mut self, session: &Session) -> std::io::Result<()>;
    /// After the sessions, before the warnings.
    fn remote_clients(&mut self, remote: &[RemoteClient]) -> std::io::Result<()>;
    /// After the remote clients, before the warnings (`--by-statement`).
    fn statements(&mut self, groups: &[StatementGroup]) -> std::io::Result<()> {
        let _ = groups;
        Ok(())
    }
    /// What comes after the sessions: the prepared transactions (when a session waits for one), then
    /// the warnings.
    fn tail(
        &mut self,
        prepared: &[PreparedTransaction],
        warnings: &[String],
    ) -> std::io::Result<()>;
}

/// The whole report, for the layouts that need every session before the first line (the table, the
/// fleet's merged list).
#[derive(Debug, Default)]
pub struct Collected(Option<SessionsReport>);

impl Collected {
    /// The report; an empty one for a sink that was never given a head.
    pub fn into_report(self) -> SessionsReport {
        self.0.unwrap_or(SessionsReport {
            target: String::new(),
            connection: Default::default(),
            count: 0,
            not_visible: 0,
            sessions: Vec::new(),
            remote_clients: Vec::new(),
            statements: Vec::new(),
            prepared_transactions: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

impl SessionsSink for Collected {
    fn head(&mut self, head: &SessionsHead) -> std::io::Result<()> {
        let head = head.clone();
        self.0 = Some(SessionsReport {
            target: head.target,
            connection: head.connection,
            count: head.count,
            not_visible: head.not_visible,
            sessions: Vec::new(),
            remote_clients: Vec::new(),
            statements: Vec::new(),
            prepared_transactions: Vec::new(),
            warnings: Vec::new(),
        });
        Ok(())
    }

    fn session(&mut self, session: &Session) -> std::io::Result<()> {
        if let Some(r) = &mut self.0 {
            r.sessions.push(session.clone());
        }
        Ok(())
    }

    fn remote_clients(&mut self, remote: &[RemoteClient]) -> std::io::Result<()> {
        if let Some(r) = &mut self.0 {
            r.remote_clients = remote.to_vec();
        }
        Ok(())
    }

    fn statements(&mut self, groups: &[StatementGroup]) -> std::io::Result<()> {
        if let Some(r) = &mut self.0 {
            r.statements = groups.to_vec();
        }
        Ok(())
    }

    fn tail(
        &mut self,
        prepared: &[PreparedTransaction],
        warnings: &[String],
    ) -> std::io::Result<()> {
        if let Some(r) = &mut self.0 {
            r.prepared_transactions = prepared.to_vec();
            r.warnings = warnings.to_vec();
        }
        Ok(())
    }
}
