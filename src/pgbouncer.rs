//! PgBouncer's side: its admin console (`dbname=pgbouncer`, simple query protocol only) answers SHOW POOLS,
//! SHOW SERVERS, SHOW DATABASES and SHOW CONFIG. Columns are read by name, so versions that add columns work.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context, Result};
use postgres::{Client, SimpleQueryMessage};

use crate::conninfo::{self, Environment, Overrides};
use crate::report::pgbouncer::{DatabaseEntry, LinkedClient, PgbouncerSnapshot, Pool};

type Rows = Vec<BTreeMap<String, Option<String>>>;

fn show(client: &mut Client, what: &str, show_sql: bool) -> Result<Rows> {
    let sql = format!("SHOW {what}");
    if show_sql {
        crate::term::echo_sql(&format!("{sql};"));
    }
    let mut rows = Vec::new();
    for msg in client
        .simple_query(&sql)
        .with_context(|| format!("PgBouncer: {sql}"))?
    {
        if let SimpleQueryMessage::Row(r) = msg {
            let mut m = BTreeMap::new();
            for (i, col) in r.columns().iter().enumerate() {
                m.insert(col.name().to_string(), r.get(i).map(str::to_string));
            }
            rows.push(m);
        }
    }
    Ok(rows)
}

fn int(row: &BTreeMap<String, Option<String>>, key: &str) -> i64 {
    row.get(key)
        .and_then(|v| v.as_deref())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn text(row: &BTreeMap<String, Option<String>>, key: &str) -> Option<String> {
    row.get(key).cloned().flatten().filter(|v| !v.is_empty())
}

/// Connect to PgBouncer's admin console. `conninfo` is a conninfo string or URI (psql style); the database
/// defaults to `pgbouncer`.
pub fn connect(conninfo: &str) -> Result<(Client, String)> {
    let dbname = if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        uri_with_default_db(conninfo)
    } else if conninfo.contains('=') {
        if conninfo.contains("dbname=") {
            conninfo.to_string()
        } else {
            format!("{conninfo} dbname=pgbouncer")
        }
    } else {
        // A bare host[:port].
        let (host, port) = conninfo.split_once(':').unwrap_or((conninfo, "6432"));
        format!("host={host} port={port} dbname=pgbouncer")
    };
    let spec = conninfo::resolve(
        &Overrides {
            dbname: Some(dbname),
            ..Overrides::default()
        },
        &Environment::from_process(),
    )
    .context("invalid --pgbouncer connection")?;
    let label = spec.target_label();
    // No startup options: PgBouncer refuses parameters it does not know.
    let client = spec.connect(None).map_err(|e| {
        anyhow!(
            "could not connect to PgBouncer's admin console at {label}: {}",
            conninfo::redact(&format!("{e:#}"))
        )
    })?;
    Ok((client, label))
}

/// A URI naming no database gets `pgbouncer` (the admin console), as a key=value string does.
fn uri_with_default_db(uri: &str) -> String {
    let scheme_end = uri.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &uri[scheme_end..];
    let (before_query, query) = match rest.find('?') {
        Some(q) => (&rest[..q], &rest[q..]),
        None => (rest, ""),
    };
    let has_db = before_query
        .find('/')
        .is_some_and(|slash| slash + 1 < before_query.len())
        || query.split(['?', '&']).any(|kv| kv.starts_with("dbname="));
    if has_db {
        return uri.to_string();
    }
    let authority = before_query.trim_end_matches('/');
    format!("{}{authority}/pgbouncer{query}", &uri[..scheme_end])
}

/// The backend pids of PgBouncer's server connections (SHOW SERVERS' remote_pid).
fn remote_pids(servers: &Rows) -> Vec<i32> {
    servers
        .iter()
        .filter_map(|r| text(r, "remote_pid").and_then(|p| p.parse::<i32>().ok()))
        .filter(|p| *p > 0)
        .collect()
}

/// PgBouncer's admin console, kept open to re-read its server connections (kill re-reads them before
/// every batch: a connection PgBouncer opened since the plan is protected too).
pub struct Console {
    client: Client,
    show_sql: bool,
}

impl Console {
    pub fn connect(conninfo: &str, show_sql: bool) -> Result<Console> {
        let (client, _) = connect(conninfo)?;
        Ok(Console { client, show_sql })
    }

    /// The backend pids of its server connections now.
    pub fn server_pids(&mut self) -> Result<Vec<i32>> {
        let rows = show(&mut self.client, "SERVERS", self.show_sql)?;
        Ok(remote_pids(&rows))
    }
}

/// The clients linked to a server connection now, by the PostgreSQL backend pid of that connection
/// (SHOW CLIENTS' `link` = SHOW SERVERS' `ptr`). Over TCP, a client is found by its address and port
/// like any other; over PgBouncer's unix socket, `remote_pid` names it.
pub fn linked_clients(conninfo: &str, show_sql: bool) -> Result<HashMap<i32, LinkedClient>> {
    let (mut client, _) = connect(conninfo)?;
    let servers = show(&mut client, "SERVERS", show_sql)?;
    let clients = show(&mut client, "CLIENTS", show_sql)?;
    Ok(link(&servers, &clients))
}

fn link(servers: &Rows, clients: &Rows) -> HashMap<i32, LinkedClient> {
    let backend_of: HashMap<String, i32> = servers
        .iter()
        .filter_map(|r| {
            let pid = text(r, "remote_pid")?
                .parse::<i32>()
                .ok()
                .filter(|p| *p > 0)?;
            Some((text(r, "ptr")?, pid))
        })
        .collect();
    let number = |r: &BTreeMap<String, Option<String>>, k: &str| {
        text(r, k).and_then(|v| v.trim().parse::<i32>().ok())
    };
    clients
        .iter()
        .filter_map(|r| {
            let backend = *backend_of.get(&text(r, "link")?)?;
            Some((
                backend,
                LinkedClient {
                    addr: text(r, "addr"),
                    port: number(r, "port"),
                    local_port: number(r, "local_port"),
                    remote_pid: number(r, "remote_pid").filter(|p| *p > 0),
                },
            ))
        })
        .collect()
}

/// Read pools, servers, databases and config from PgBouncer's console.
pub fn snapshot(conninfo: &str, show_sql: bool) -> Result<PgbouncerSnapshot> {
    let (mut client, target) = connect(conninfo)?;
    let pools_rows = show(&mut client, "POOLS", show_sql)?;
    let servers_rows = show(&mut client, "SERVERS", show_sql)?;
    let db_rows = show(&mut client, "DATABASES", show_sql)?;
    let config_rows = show(&mut client, "CONFIG", show_sql)?;

    let pools: Vec<Pool> = pools_rows
        .iter()
        .filter(|r| text(r, "database").as_deref() != Some("pgbouncer"))
        .map(|r| {
            let wait = int(r, "maxwait") as f64 + int(r, "maxwait_us") as f64 / 1e6;
            Pool {
                database: text(r, "database").unwrap_or_default(),
                user: text(r, "user").unwrap_or_default(),
                pool_mode: text(r, "pool_mode"),
                clients_active: int(r, "cl_active"),
                clients_waiting: int(r, "cl_waiting"),
                servers_active: int(r, "sv_active"),
                servers_idle: int(r, "sv_idle"),
                servers_used: int(r, "sv_used"),
                servers_other: int(r, "sv_tested") + int(r, "sv_login"),
                max_wait_seconds: crate::report::round3(wait),
            }
        })
        .collect();
    let databases = db_rows
        .iter()
        .filter(|r| text(r, "name").as_deref() != Some("pgbouncer"))
        .map(|r| DatabaseEntry {
            name: text(r, "name").unwrap_or_default(),
            host: text(r, "host"),
            port: text(r, "port").and_then(|p| p.parse().ok()),
            database: text(r, "database").unwrap_or_default(),
            pool_size: int(r, "pool_size"),
            reserve_pool: int(r, "reserve_pool"),
            max_connections: int(r, "max_connections"),
            current_connections: int(r, "current_connections"),
        })
        .collect();
    let config: BTreeMap<String, String> = config_rows
        .iter()
        .filter_map(|r| Some((text(r, "key")?, text(r, "value").unwrap_or_default())))
        .collect();
    let server_pids = remote_pids(&servers_rows);
    let num = |k: &str| config.get(k).and_then(|v| v.parse::<i64>().ok());
    Ok(PgbouncerSnapshot {
        target,
        clients_active: pools.iter().map(|p| p.clients_active).sum(),
        clients_waiting: pools.iter().map(|p| p.clients_waiting).sum(),
        servers_active: pools.iter().map(|p| p.servers_active).sum(),
        servers_idle: pools.iter().map(|p| p.servers_idle).sum(),
        servers_used: pools.iter().map(|p| p.servers_used).sum(),
        max_wait_seconds: pools.iter().map(|p| p.max_wait_seconds).fold(0.0, f64::max),
        max_client_conn: num("max_client_conn"),
        default_pool_size: num("default_pool_size"),
        reserve_pool_size: num("reserve_pool_size"),
        pool_mode: config.get("pool_mode").cloned(),
        pools,
        databases,
        config,
        server_pids,
    })
}

impl PgbouncerSnapshot {
    /// The most server connections PgBouncer may open: per `[databases]` entry its pool size (times the users
    /// seen in its pools) plus the reserve, capped by the entry's max_connections and max_db_connections.
    pub fn max_server_connections(&self) -> i64 {
        let max_db = self
            .config
            .get("max_db_connections")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        self.databases
            .iter()
            .map(|d| {
                let users = self
                    .pools
                    .iter()
                    .filter(|p| p.database == d.name)
                    .count()
                    .max(1) as i64;
                let mut n = (d.pool_size + d.reserve_pool) * users;
                for cap in [d.max_connections, max_db] {
                    if cap > 0 {
                        n = n.min(cap);
                    }
                }
                n
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_linked_to_the_backend_of_its_server_connection() {
        let row = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect::<BTreeMap<_, _>>()
        };
        let servers = vec![
            row(&[("ptr", "0x1"), ("remote_pid", "4242")]),
            row(&[("ptr", "0x2"), ("remote_pid", "0")]),
        ];
        let clients = vec![
            row(&[
                ("addr", "127.0.0.1"),
                ("port", "50000"),
                ("local_port", "6432"),
                ("link", "0x1"),
                ("remote_pid", "0"),
            ]),
            row(&[
                ("addr", "unix"),
                ("port", "6432"),
                ("link", "0x2"),
                ("remote_pid", "77"),
            ]),
            row(&[
                ("addr", "unix"),
                ("port", "6432"),
                ("link", ""),
                ("remote_pid", "78"),
            ]),
        ];
        let linked = link(&servers, &clients);
        assert_eq!(linked.len(), 1, "{linked:?}");
        assert_eq!(
            linked[&4242],
            LinkedClient {
                addr: Some("127.0.0.1".into()),
                port: Some(50000),
                local_port: Some(6432),
                remote_pid: None,
            }
        );
    }

    #[test]
    fn uris_default_to_the_admin_console() {
        assert_eq!(
            uri_with_default_db("postgresql://admin@h:6432"),
            "postgresql://admin@h:6432/pgbouncer"
        );
        assert_eq!(
            uri_with_default_db("postgresql://admin@h:6432/"),
            "postgresql://admin@h:6432/pgbouncer"
        );
        assert_eq!(
            uri_with_default_db("postgresql://admin@/?host=/tmp&port=6432"),
            "postgresql://admin@/pgbouncer?host=/tmp&port=6432"
        );
        assert_eq!(
            uri_with_default_db("postgresql://h/stats"),
            "postgresql://h/stats"
        );
        assert_eq!(
            uri_with_default_db("postgres://h?dbname=pgbouncer"),
            "postgres://h?dbname=pgbouncer"
        );
    }
}
