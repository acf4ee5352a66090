//! `pgconn sessions`: one row per client session.

use serde::Serialize;

use super::Session;

#[derive(Debug, Serialize)]
pub struct SessionsReport {
    pub target: String,
    /// Sessions that matched (before --limit).
    pub count: usize,
    pub sessions: Vec<Session>,
    pub warnings: Vec<String>,
}
