//! `pgconn sessions`: one row per client session.

use serde::Serialize;

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
    pub warnings: Vec<String>,
}
