//! Many targets at once: how one failed, and one target's result in JSON.

use serde::Serialize;

/// How a target failed, for monitoring: `check` maps these to states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// The JSON spelling (`full`, `unreachable`, ...), also the `kind` label of `pgconn_scrape_error`.
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

/// One target's result: `{target, ok, error, error_kind, sqlstate, report}` in JSON; `report` is null and
/// `error` set when the target failed.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult<T> {
    pub target: String,
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
    fn keys_are_the_json_spelling() {
        for k in [Full, Unreachable, Refused, Timeout, Query, Invalid] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.key());
        }
    }
}
