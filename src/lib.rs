//! pgconn: diagnose and fix PostgreSQL connection exhaustion.

pub mod cli;
pub mod commands;
pub mod conninfo;
pub mod sandbox;
