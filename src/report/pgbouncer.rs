//! PgBouncer's side as its admin console reports it (SHOW POOLS, SHOW DATABASES, SHOW CONFIG, SHOW SERVERS).

use std::collections::BTreeMap;

use serde::Serialize;

/// One pool (database, user) as SHOW POOLS reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    pub database: String,
    pub user: String,
    pub pool_mode: Option<String>,
    pub clients_active: i64,
    pub clients_waiting: i64,
    pub servers_active: i64,
    pub servers_idle: i64,
    pub servers_used: i64,
    pub servers_other: i64,
    /// How long the oldest waiting client has waited.
    pub max_wait_seconds: f64,
}

/// One `[databases]` entry as SHOW DATABASES reports it.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseEntry {
    pub name: String,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub database: String,
    pub pool_size: i64,
    pub reserve_pool: i64,
    pub max_connections: i64,
    pub current_connections: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PgbouncerSnapshot {
    pub target: String,
    pub pools: Vec<Pool>,
    pub databases: Vec<DatabaseEntry>,
    /// Settings from SHOW CONFIG (key -> value).
    #[serde(skip)]
    pub config: BTreeMap<String, String>,
    pub max_client_conn: Option<i64>,
    pub default_pool_size: Option<i64>,
    pub reserve_pool_size: Option<i64>,
    pub pool_mode: Option<String>,
    /// Backend pids of PostgreSQL sessions PgBouncer holds (SHOW SERVERS remote_pid).
    pub server_pids: Vec<i32>,
    pub clients_active: i64,
    pub clients_waiting: i64,
    pub servers_active: i64,
    pub servers_idle: i64,
    pub servers_used: i64,
    pub max_wait_seconds: f64,
}

/// A PgBouncer client linked to a server connection right now (SHOW CLIENTS' `link` is SHOW SERVERS'
/// `ptr`, whose `remote_pid` is the PostgreSQL backend): the process behind that backend's session is this
/// client's, not PgBouncer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedClient {
    /// Its address (`unix` over PgBouncer's unix socket) and port.
    pub addr: Option<String>,
    pub port: Option<i32>,
    /// The port it connected to (PgBouncer's listen_port).
    pub local_port: Option<i32>,
    /// Its pid, which PgBouncer reads from a unix-socket client's credentials (0 or absent over TCP).
    pub remote_pid: Option<i32>,
}
