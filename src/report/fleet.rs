//! Many targets at once: how one failed, and one target's result in JSON.

use serde::Serialize;

/// How a target failed, for monitoring: `check` maps these to states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server refused the connection because every slot is taken, the reserved ones too ("sorry,
    /// too many clients already"), or with a 53300 whose words pgconn does not recognise.
    Full,
    /// Refused with 53300 because only the reserved slots are left ("remaining connection slots are
    /// reserved ..."): superusers (16+: and members of pg_use_reserved_connections) can still connect.
    ReservedOnly,
    /// Refused with 53300 because the role is at its CONNECTION LIMIT; the server may have free slots.
    RoleLimit,
    /// Refused with 53300 because the database is at its CONNECTION LIMIT; the server may have free
    /// slots.
    DatabaseLimit,
    /// The emergency route's WAL sender connection was refused with 53300: every WAL sender slot is
    /// taken, or there are none (max_wal_senders = 0).
    WalSendersFull,
    /// No connection: refused, no answer, starting up or shutting down.
    Unreachable,
    /// The server answered and refused: authentication, a missing database, ...
    Refused,
    /// No result within --target-timeout.
    Timeout,
    /// Connected, but a query failed.
    Query,
    /// The target's connection options are invalid.
    Invalid,
}

impl FailureKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [FailureKind; 10] = [
        FailureKind::Full,
        FailureKind::ReservedOnly,
        FailureKind::RoleLimit,
        FailureKind::DatabaseLimit,
        FailureKind::WalSendersFull,
        FailureKind::Unreachable,
        FailureKind::Refused,
        FailureKind::Timeout,
        FailureKind::Query,
        FailureKind::Invalid,
    ];

    /// Its one spelling: in JSON (`error_kind`), and the `kind` label of `pgconn_scrape_error`.
    pub fn key(self) -> &'static str {
        match self {
            FailureKind::Full => "full",
            FailureKind::ReservedOnly => "reserved_only",
            FailureKind::RoleLimit => "role_limit",
            FailureKind::DatabaseLimit => "database_limit",
            FailureKind::WalSendersFull => "wal_senders_full",
            FailureKind::Unreachable => "unreachable",
            FailureKind::Refused => "refused",
            FailureKind::Timeout => "timeout",
            FailureKind::Query => "query",
            FailureKind::Invalid => "invalid",
        }
    }
}

impl Serialize for FailureKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

/// One target's result: `{target, ok, error, error_kind, sqlstate, report}` in JSON; `report` is null and
/// `error` set when the target failed.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult<T> {
    pub target: String,
    /// What resolving the target's connection options had to say, whether or not it was reached (a
    /// report's `connection` carries them too, with the route's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub ok: bool,
    /// The whole error, secrets redacted.
    pub error: Option<String>,
    pub error_kind: Option<FailureKind>,
    pub sqlstate: Option<String>,
    /// The error's first line, as tables show it.
    #[serde(skip)]
    pub error_line: Option<String>,
    pub report: Option<T>,
}

impl<T> TargetResult<T> {
    /// The report, or how the target failed (Prometheus text says that much).
    pub fn collected(&self) -> Result<&T, FailureKind> {
        self.report
            .as_ref()
            .ok_or(self.error_kind.unwrap_or(FailureKind::Query))
    }

    /// The report, or the error's first line.
    pub fn outcome(&self) -> Result<&T, &str> {
        match &self.report {
            Some(r) => Ok(r),
            None => Err(self.error_line.as_deref().unwrap_or("failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FailureKind::*;

    #[test]
    fn every_kind_has_its_own_snake_case_key() {
        let keys: std::collections::BTreeSet<&str> =
            super::FailureKind::ALL.iter().map(|k| k.key()).collect();
        assert_eq!(keys.len(), super::FailureKind::ALL.len());
        for k in super::FailureKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.key());
            assert!(k.key().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        assert_eq!(serde_json::to_value(RoleLimit).unwrap(), "role_limit");
    }
}
