//! pgconn: diagnose and fix PostgreSQL connection exhaustion.

pub mod cli;
pub mod conninfo;
