//! One connection per target: connect with pgconn's session settings, run statements (echoing them with
//! `--show-sql`, binding named slots), know the server's facts (carried by the first statement that has
//! them, or read when first asked for), and turn connection failures into messages a person can act on.
//! PostgreSQL errors are recognised by SQLSTATE, never by their text.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::Client;

use crate::conninfo::{self, ConnSpec, Environment, Overrides};
use crate::report::platform::{self, Markers, PlatformChoice};
use crate::report::{ConnectionRoute, ServerFacts};
use crate::statement::{Params, Statement};
use crate::wire;

mod emergency;
mod fallback;
pub mod literal;
pub mod refusal;
mod row;

pub use emergency::BreakGlass;
pub use row::{Column, Row, RowIndex};

/// pgconn's own statements must never hang a server that is already in trouble.
pub const OWN_STATEMENT_TIMEOUT: &str = "30s";
pub const OWN_LOCK_TIMEOUT: &str = "5s";

/// The same timeouts for one transaction, behind a pooler.
const POOLED_BEGIN: &str = "-- pgconn's own timeouts for this statement only (behind a pooler)
BEGIN; SET LOCAL statement_timeout = '30s'; SET LOCAL lock_timeout = '5s'";

/// Connect with pgconn's timeouts as startup options; a pooler that refuses those options (PgBouncer:
/// "unsupported startup parameter", SQLSTATE 08P01) gets a connection without them, as psql makes one.
fn connect_once(spec: &ConnSpec) -> Result<(Client, usize, bool)> {
    let options =
        format!("-c statement_timeout={OWN_STATEMENT_TIMEOUT} -c lock_timeout={OWN_LOCK_TIMEOUT}");
    match spec.connect_reached(Some(&options)) {
        Ok((c, i)) => Ok((c, i, false)),
        Err(e) if pooler_refused_options(&e) => {
            spec.connect_reached(None).map(|(c, i)| (c, i, true))
        }
        Err(e) => Err(e),
    }
}

/// A pooler's refusal of startup options: SQLSTATE 08P01 (protocol violation) naming a startup parameter.
/// PgBouncer's messages are not translated; this is the one place that reads them.
fn pooler_refused_options(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<postgres::Error>())
        .filter_map(|pe| pe.as_db_error())
        .any(|d| {
            d.code() == &SqlState::PROTOCOL_VIOLATION && d.message().contains("startup parameter")
        })
}

/// The facts on their own, as the statements that carry them have them: `facts.sql`'s row as JSON text
/// in a column `facts` (those statements select `(SELECT to_json(f)::text FROM facts f) AS facts` from a
/// CTE `facts AS (/*FACTS*/)`, see `activity::assemble`).
static FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH facts AS (\n{}\n)\nSELECT (SELECT to_json(f)::text FROM facts f) AS facts",
        include_str!("sql/facts.sql").trim_end()
    )
});

/// The facts as `facts.sql` names them.
#[derive(serde::Deserialize)]
struct FactsRow {
    version_num: i32,
    version: String,
    max_connections: i32,
    superuser_reserved_connections: i32,
    reserved_connections: Option<i32>,
    backend_pid: i32,
    current_user: String,
    database: String,
    is_superuser: bool,
    read_all_stats: bool,
    signal_backend: bool,
    read_file_settings: bool,
    #[serde(default)]
    rds_superuser_reserved_connections: Option<String>,
    #[serde(flatten)]
    markers: Markers,
}

/// The facts from `facts.sql`'s row, with the platform told from its markers, the host name connected
/// to (None for a socket) and `--platform` (`choice`, as given).
fn facts_from_json(json: &str, host: Option<&str>, choice: Option<&str>) -> Result<ServerFacts> {
    let f: FactsRow =
        serde_json::from_str(json).with_context(|| format!("unreadable server facts: {json}"))?;
    let choice = choice
        .and_then(PlatformChoice::parse)
        .unwrap_or(PlatformChoice::Detect);
    Ok(ServerFacts {
        platform: platform::detect(choice, host, &f.markers),
        // A value the server would not take as an integer is no reserve pgconn can count.
        rds_superuser_reserved_connections: f
            .rds_superuser_reserved_connections
            .and_then(|v| v.trim().parse().ok()),
        version: f.version,
        version_num: f.version_num,
        max_connections: f.max_connections,
        superuser_reserved_connections: f.superuser_reserved_connections,
        reserved_connections: f.reserved_connections,
        backend_pid: f.backend_pid,
        current_user: f.current_user,
        database: f.database,
        is_superuser: f.is_superuser,
        can_read_all_stats: f.read_all_stats,
        can_signal_backend: f.signal_backend,
        can_read_file_settings: f.read_file_settings,
    })
}

/// The managed platform of a target before any connection got in: `--platform`, or the host name of
/// host `i` (a socket or an address alone is no evidence).
pub(crate) fn spec_platform(spec: &ConnSpec, i: usize) -> Option<platform::Platform> {
    let choice = spec
        .platform()
        .and_then(PlatformChoice::parse)
        .unwrap_or(PlatformChoice::Detect);
    let targets = spec.targets();
    let host = targets
        .get(i)
        .or(targets.first())
        .filter(|h| !h.is_socket())
        .and_then(|h| h.host());
    platform::detect(choice, host, &Markers::default()).managed()
}

/// The connection under a [`Db`]: rust-postgres, or a WAL sender of the emergency route.
enum Link {
    Client(Client),
    Walsender(wire::Connection),
}

/// One session with one server.
pub struct Db {
    link: Link,
    /// How the server was reached (normal, or the emergency route and why).
    route: ConnectionRoute,
    show_sql: bool,
    spec: ConnSpec,
    /// Which of the spec's hosts took the connection.
    reached: usize,
    /// Connected through a pooler that refused pgconn's startup options (PgBouncer): its own timeouts are
    /// then set per statement, with SET LOCAL inside a transaction, so that they never stay on a server
    /// connection other clients reuse.
    pooled: bool,
    /// What opens each statement's transaction behind such a pooler when a caller set timeouts of its own
    /// ([`Db::limit_pooled_timeouts`]); [`POOLED_BEGIN`] otherwise.
    pooled_begin: Option<String>,
    facts: Option<ServerFacts>,
}

/// Where to connect, as the command line says it (psql's -h -p -U -d --service -W --connect-timeout),
/// the fleet's options (--targets, --jobs, --target-timeout) and whether statements are echoed
/// (--show-sql).
#[derive(Debug, Clone, Default)]
pub struct ConnOptions {
    pub host: Option<String>,
    pub port: Option<String>,
    pub username: Option<String>,
    /// Each -d: a database name, a conninfo or a URI.
    pub dbname: Vec<String>,
    pub service: Vec<String>,
    /// -W: ask for a password before connecting.
    pub password_prompt: bool,
    pub connect_timeout: Option<std::time::Duration>,
    pub targets: Option<std::path::PathBuf>,
    pub jobs: Option<usize>,
    pub target_timeout: Option<std::time::Duration>,
    pub show_sql: bool,
    /// Whether to use the emergency route (a WAL sender slot) when the server is full.
    pub break_glass: BreakGlass,
    /// `--fallback-user`: when the server refuses the role at its CONNECTION LIMIT, connect as this one
    /// to show the limited role's sessions (the same host, port and database; its own password).
    pub fallback_user: Option<String>,
    /// `--platform NAME|none`: the managed platform, instead of detecting it (none: no platform).
    pub platform: Option<String>,
}

impl ConnOptions {
    /// Whether these options name several targets, or a targets file.
    pub fn names_many(&self) -> bool {
        self.dbname.len() > 1 || self.service.len() > 1 || self.targets.is_some()
    }
}

/// Build the connection specification from the command line and the environment (libpq rules).
pub fn resolve_spec(
    conn: &ConnOptions,
    dbname: Option<&str>,
    service: Option<&str>,
) -> Result<ConnSpec> {
    let overrides = Overrides {
        host: conn.host.clone(),
        port: conn.port.clone(),
        user: conn.username.clone(),
        dbname: dbname.map(str::to_string),
        service: service.map(str::to_string),
        connect_timeout: conn.connect_timeout,
    };
    // A conninfo, service or environment that does not resolve is a usage error: one line, exit 2.
    let spec = conninfo::resolve(&overrides, &Environment::from_process()).map_err(|e| {
        crate::exit::refuse(format!(
            "invalid connection options: {}",
            format!("{e:#}").replace('\n', " ")
        ))
    })?;
    let mut spec = spec;
    spec.set_platform(conn.platform.clone());
    if let Some(user) = conn.fallback_user.as_deref().filter(|u| !u.is_empty()) {
        let fallback = conninfo::resolve(
            &Overrides {
                user: Some(user.to_string()),
                ..overrides
            },
            &Environment::from_process(),
        );
        // A -d conninfo's user wins over -U (psql's rule) and so over this too: then there is no
        // fallback to try, which the refusal says.
        if let Some(f) = fallback.ok().filter(|f| f.user() == user) {
            spec.set_fallback(f);
        }
    }
    // Its warnings travel with it: into the connection's route, and to whoever shows them.
    Ok(spec)
}

/// The connection specification of the one target given (the first -d or --service).
pub fn resolve_one(conn: &ConnOptions) -> Result<ConnSpec> {
    if conn.names_many() {
        return Err(anyhow!(
            "this command works on one server at a time; give one -d or --service"
        ));
    }
    resolve_spec(
        conn,
        conn.dbname.first().map(String::as_str),
        conn.service.first().map(String::as_str),
    )
}

impl Db {
    /// Connect to the one target given on the command line.
    pub fn connect_one(conn: &ConnOptions) -> Result<Db> {
        let spec = resolve_one(conn)?;
        Db::connect(spec, conn.password_prompt, conn.show_sql, conn.break_glass)
    }

    /// Connect, prompting for a password when asked to (`-W`) or when the server wants one and a person is
    /// at the terminal (as psql does).
    pub fn connect(spec: ConnSpec, prompt: bool, show_sql: bool, mode: BreakGlass) -> Result<Db> {
        let ask = std::io::stdin().is_terminal();
        Db::connect_with(spec, prompt, ask, show_sql, mode)
    }

    /// Connect without ever asking for a password (background threads, several targets at once).
    pub fn connect_unattended(spec: ConnSpec, show_sql: bool, mode: BreakGlass) -> Result<Db> {
        Db::connect_with(spec, false, false, show_sql, mode)
    }

    fn connect_with(
        mut spec: ConnSpec,
        prompt: bool,
        ask: bool,
        show_sql: bool,
        mode: BreakGlass,
    ) -> Result<Db> {
        if prompt {
            let pw = prompt_password(&spec)?;
            spec.set_password(pw);
        }
        if mode == BreakGlass::Always {
            return emergency::connect_directly(spec, ask, show_sql);
        }
        let first = match connect_once(&spec) {
            Err(e) if ask && !spec.has_password() && wants_password(&e) => {
                let pw = prompt_password(&spec)?;
                spec.set_password(pw);
                connect_once(&spec)
            }
            other => other,
        };
        match first {
            Ok((client, reached, pooled)) => Ok(Db {
                link: Link::Client(client),
                route: ConnectionRoute {
                    warnings: spec.warnings().to_vec(),
                    ..ConnectionRoute::default()
                },
                show_sql,
                spec,
                reached,
                pooled,
                pooled_begin: None,
                facts: None,
            }),
            Err(e) => match emergency::refusal_of(&e) {
                Some(cause) if mode == BreakGlass::Auto && cause.takes_the_route() => {
                    emergency::connect_after_refusal(spec, e, cause, ask, show_sql)
                }
                Some(cause) => Err(emergency::refused(&e, &spec, cause, mode)),
                None => Err(explain_connect_error(e, &spec)),
            },
        }
    }

    /// How the server was reached.
    pub fn route(&self) -> &ConnectionRoute {
        &self.route
    }

    /// The server's facts (version, connection limits, pgconn's own backend and privileges): read with
    /// the first statement that carries them (status, sessions and check fold them into their one
    /// statement), or on their own when asked for first.
    pub fn facts(&mut self) -> Result<&ServerFacts> {
        if self.facts.is_none() {
            let rows = self.query(&FACTS_SQL, &[])?;
            self.learn_facts(&rows)?;
        }
        self.facts
            .as_ref()
            .ok_or_else(|| anyhow!("the server sent no facts"))
    }

    /// Keep the facts a statement carried: its `facts` column (JSON of `facts.sql`'s row), on the one
    /// row of `rows` that has it (the statements send it once, not on every row).
    pub fn learn_facts(&mut self, rows: &[Row]) -> Result<()> {
        if self.facts.is_none() {
            let mut json = None;
            for r in rows {
                json = r.try_get::<_, Option<String>>("facts")?;
                if json.is_some() {
                    break;
                }
            }
            self.learn_facts_json(json.as_deref())?;
        }
        Ok(())
    }

    /// [`Db::learn_facts`] from the `facts` column's value, read by a caller that saw the rows one by one.
    pub fn learn_facts_json(&mut self, json: Option<&str>) -> Result<()> {
        if let (None, Some(json)) = (&self.facts, json) {
            let host = self.host_name();
            self.facts = Some(facts_from_json(
                json,
                host.as_deref(),
                self.spec.platform(),
            )?);
        }
        Ok(())
    }

    pub fn show_sql(&self) -> bool {
        self.show_sql
    }

    /// The managed platform pgconn acts on: from the facts once known; before, from `--platform` or the
    /// host name (the strong evidence the client has on its own).
    pub fn platform_hint(&self) -> Option<platform::Platform> {
        if let Some(f) = &self.facts {
            return f.platform.managed();
        }
        spec_platform(&self.spec, self.reached)
    }

    /// The host name of the server reached, as given (`host`, also when `hostaddr` supplied the
    /// address): None for a socket directory or an address given alone.
    pub fn host_name(&self) -> Option<String> {
        let targets = self.spec.targets();
        let h = targets.get(self.reached).or(targets.first())?;
        if h.is_socket() {
            return None;
        }
        h.host().map(str::to_string)
    }

    pub fn spec(&self) -> &ConnSpec {
        &self.spec
    }

    /// `host:port/dbname` of the server reached (with several hosts, the one that took the connection);
    /// never a password.
    pub fn target_label(&self) -> String {
        self.spec.label_of(self.reached)
    }

    /// Host, port, database and user of the server reached (never a password).
    pub fn identity(&self) -> conninfo::Identity {
        self.spec.identity_of(self.reached)
    }

    /// Run a statement with named parameter slots: the values in `params`, by name (see
    /// [`crate::statement`]). A slot without a value, or a value without a slot, is an error before
    /// anything is sent.
    pub fn query_named(&mut self, stmt: &Statement, params: &Params) -> Result<Vec<Row>> {
        let values = stmt
            .bind(params)
            .map_err(|e| anyhow!("pgconn bug: {e} in\n{}", stmt.text()))?;
        self.query(stmt.text(), &values)
    }

    /// Run a statement with typed parameters in one round trip (no separate prepare). Over the
    /// emergency route, which has no extended protocol, the same statement goes with its parameters
    /// written as literals ([`literal::inline`]), and `--show-sql` shows exactly that text.
    pub fn query(&mut self, sql: &str, params: &[(&(dyn ToSql + Sync), Type)]) -> Result<Vec<Row>> {
        let show_sql = self.show_sql;
        let name: Arc<str> = Arc::from(first_line(sql));
        let client = match &mut self.link {
            Link::Walsender(conn) => {
                let text = literal::inline(sql, params)
                    .map_err(|e| anyhow!("pgconn bug: {e:#} in\n{sql}"))?;
                echo(show_sql, &text, &[]);
                return conn
                    .query(&text)
                    .map(|rows| rows.into_iter().map(|r| Row::text(r, &name)).collect())
                    .map_err(|e| wire_sql_error(e, sql));
            }
            Link::Client(client) => client,
        };
        echo(show_sql, sql, params);
        if !self.pooled {
            return client
                .query_typed(sql, params)
                .map(|rows| rows.into_iter().map(|r| Row::binary(r, &name)).collect())
                .map_err(|e| sql_error(e, sql));
        }
        // Behind a transaction pooler a plain SET would stay on the server connection for the next
        // client; SET LOCAL ends with this transaction.
        let begin = self.pooled_begin.as_deref().unwrap_or(POOLED_BEGIN);
        echo(show_sql, begin, &[]);
        client
            .batch_execute(begin)
            .map_err(|e| sql_error(e, begin))?;
        match client.query_typed(sql, params) {
            Ok(rows) => {
                client
                    .batch_execute("COMMIT")
                    .map_err(|e| sql_error(e, "-- ending pgconn's transaction"))?;
                Ok(rows.into_iter().map(|r| Row::binary(r, &name)).collect())
            }
            Err(e) => {
                let _rolled_back = client.batch_execute("ROLLBACK");
                Err(sql_error(e, sql))
            }
        }
    }

    /// Run a statement with named parameters as [`Db::query_named`] does, handing each row to `each` as it
    /// arrives instead of collecting them: a long result is never held whole, and the caller's work on
    /// one row overlaps the server's sending of the next. An error from `each` stops the reading (the
    /// rest of the result is discarded) and is returned as it is.
    pub fn query_each(
        &mut self,
        stmt: &Statement,
        params: &Params,
        mut each: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        let values = stmt
            .bind(params)
            .map_err(|e| anyhow!("pgconn bug: {e} in\n{}", stmt.text()))?;
        let sql = stmt.text();
        let show_sql = self.show_sql;
        let name: Arc<str> = Arc::from(first_line(sql));
        let client = match &mut self.link {
            // The simple-query route of an outage has its rows whole anyway.
            Link::Walsender(_) => {
                return self.query(sql, &values)?.into_iter().try_for_each(each);
            }
            Link::Client(client) => client,
        };
        echo(show_sql, sql, &values);
        if self.pooled {
            let begin = self.pooled_begin.as_deref().unwrap_or(POOLED_BEGIN);
            echo(show_sql, begin, &[]);
            client
                .batch_execute(begin)
                .map_err(|e| sql_error(e, begin))?;
        }
        let read = (|| {
            use fallible_iterator::FallibleIterator;
            let mut rows = client
                .query_typed_raw(sql, values.iter().map(|(v, t)| (*v, t.clone())))
                .map_err(|e| sql_error(e, sql))?;
            while let Some(row) = rows.next().map_err(|e| sql_error(e, sql))? {
                each(Row::binary(row, &name))?;
            }
            Ok(())
        })();
        if !self.pooled {
            return read;
        }
        match read {
            Ok(()) => client
                .batch_execute("COMMIT")
                .map_err(|e| sql_error(e, "-- ending pgconn's transaction")),
            Err(e) => {
                let _rolled_back = client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Behind a pooler that refused pgconn's startup options, the statement_timeout and lock_timeout (in
    /// milliseconds) each statement's own transaction sets from now on, in place of pgconn's defaults
    /// (a caller with a deadline of its own: the exporter's scrape). Nothing changes on a direct
    /// connection, whose timeouts the caller sets itself.
    pub fn limit_pooled_timeouts(&mut self, statement_ms: u128, lock_ms: u128) {
        self.pooled_begin = Some(format!(
            "-- pgconn's own timeouts for this statement only (behind a pooler)\n\
             BEGIN; SET LOCAL statement_timeout = {statement_ms}; SET LOCAL lock_timeout = {lock_ms}"
        ));
    }

    /// Whether pgconn reached the server through a pooler that refused its startup options.
    pub fn pooled(&self) -> bool {
        self.pooled
    }

    pub fn query_one(&mut self, sql: &str, params: &[(&(dyn ToSql + Sync), Type)]) -> Result<Row> {
        let mut rows = self.query(sql, params)?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(anyhow!("expected one row, the server returned {n}")),
        }
    }

    /// Run statements that take no parameters (ALTER DATABASE / ROLE, which refuse bind parameters) with
    /// the simple query protocol: several statements separated by `;` run as one transaction, all or
    /// nothing. Behind a pooler, inside pgconn's own transaction with its timeouts (see [`Db::query`]).
    pub fn execute_simple(&mut self, sql: &str) -> Result<()> {
        let show_sql = self.show_sql;
        let client = match &mut self.link {
            Link::Walsender(c) => {
                echo(show_sql, sql, &[]);
                return c.simple_query(sql).map_err(|e| wire_sql_error(e, sql));
            }
            Link::Client(c) => c,
        };
        if !self.pooled {
            echo(show_sql, sql, &[]);
            return client.batch_execute(sql).map_err(|e| sql_error(e, sql));
        }
        echo(show_sql, POOLED_BEGIN, &[]);
        client
            .batch_execute(POOLED_BEGIN)
            .map_err(|e| sql_error(e, POOLED_BEGIN))?;
        echo(show_sql, sql, &[]);
        if let Err(e) = client.batch_execute(sql) {
            let _rolled_back = client.batch_execute("ROLLBACK");
            return Err(sql_error(e, sql));
        }
        client
            .batch_execute("COMMIT")
            .map_err(|e| sql_error(e, "-- ending pgconn's transaction"))
    }

    /// Run one statement that refuses a transaction block (ALTER SYSTEM) with the simple query protocol,
    /// alone. pgconn's timeouts bound it only where they are session settings: a pooler that refused them
    /// has none to give it, which is why `tune` refuses ALTER SYSTEM through such a pooler.
    pub fn execute_outside_transaction(&mut self, sql: &str) -> Result<()> {
        echo(self.show_sql, sql, &[]);
        match &mut self.link {
            Link::Client(c) => c.batch_execute(sql).map_err(|e| sql_error(e, sql)),
            Link::Walsender(c) => c.simple_query(sql).map_err(|e| wire_sql_error(e, sql)),
        }
    }
}

/// The `--show-sql` echo of a statement about to be sent, with its parameters (secrets removed).
fn echo(show_sql: bool, sql: &str, params: &[(&(dyn ToSql + Sync), Type)]) {
    if !show_sql {
        return;
    }
    let mut text = sql.trim_end().trim_end_matches(';').to_string();
    text.push(';');
    for (i, (p, _)) in params.iter().enumerate() {
        text.push_str(&format!("\n-- ${} = {:?}", i + 1, p));
    }
    crate::term::echo_sql(&conninfo::redact(&text));
}

fn first_line(sql: &str) -> &str {
    sql.lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("--")
        .trim()
}

/// A statement that failed: which one, and the server's words once ("ERROR: message (SQLSTATE x)").
/// The error underneath stays reachable for its SQLSTATE ([`sqlstate`], [`describe_error`],
/// [`server_message`], [`connection_lost`]) but is not its `source()`: printed as a chain (`{:#}`), it
/// would repeat the server's words, after rust-postgres' own "db error" and unescaped.
#[derive(Debug)]
pub struct StatementError {
    text: String,
    underneath: Underneath,
}

#[derive(Debug)]
enum Underneath {
    Pg(postgres::Error),
    Wire(anyhow::Error),
}

impl std::fmt::Display for StatementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for StatementError {}

/// Say which statement failed and what the server answered, once (see [`StatementError`]).
fn sql_error(e: postgres::Error, sql: &str) -> anyhow::Error {
    let text = format!("{}: {}", first_line(sql), describe_pg_error(&e));
    anyhow::Error::new(StatementError {
        text,
        underneath: Underneath::Pg(e),
    })
}

/// The same for a statement sent over the emergency route.
fn wire_sql_error(e: anyhow::Error, sql: &str) -> anyhow::Error {
    let detail = match e
        .chain()
        .find_map(|c| c.downcast_ref::<wire::ServerError>())
    {
        Some(se) => describe_server_error(se),
        None => format!("{e:#}"),
    };
    anyhow::Error::new(StatementError {
        text: format!("{}: {detail}", first_line(sql)),
        underneath: Underneath::Wire(e),
    })
}

/// The rust-postgres error of one link of an error chain: itself, or under a [`StatementError`].
fn pg_error_in<'a>(c: &'a (dyn std::error::Error + 'static)) -> Option<&'a postgres::Error> {
    c.downcast_ref::<postgres::Error>()
        .or_else(|| match c.downcast_ref::<StatementError>() {
            Some(StatementError {
                underneath: Underneath::Pg(e),
                ..
            }) => Some(e),
            _ => None,
        })
}

/// The errors of the emergency route under one link of an error chain: itself, or the chain under a
/// [`StatementError`].
fn wire_errors_in<'a>(
    c: &'a (dyn std::error::Error + 'static),
) -> Box<dyn Iterator<Item = &'a (dyn std::error::Error + 'static)> + 'a> {
    match c.downcast_ref::<StatementError>() {
        Some(StatementError {
            underneath: Underneath::Wire(e),
            ..
        }) => Box::new(e.chain()),
        _ => Box::new(std::iter::once(c)),
    }
}

/// The emergency route's server error of one link of an error chain.
fn server_error_in<'a>(c: &'a (dyn std::error::Error + 'static)) -> Option<&'a wire::ServerError> {
    wire_errors_in(c).find_map(|x| x.downcast_ref::<wire::ServerError>())
}

/// "ERROR: message (SQLSTATE x)" with detail and hint, for an error of the emergency route.
pub fn describe_server_error(se: &wire::ServerError) -> String {
    server_words(
        &se.severity,
        &se.message,
        &se.code,
        se.detail.as_deref(),
        se.hint.as_deref(),
    )
}

/// A server's error in one line: "SEVERITY: message (SQLSTATE x); detail: ...; hint: ...". The server's
/// words may quote names with any character in them: escaped.
fn server_words(
    severity: &str,
    message: &str,
    code: &str,
    detail: Option<&str>,
    hint: Option<&str>,
) -> String {
    let clean = crate::text::clean;
    let mut s = format!("{}: {} (SQLSTATE {code})", clean(severity), clean(message));
    if let Some(d) = detail {
        s.push_str(&format!("; detail: {}", clean(d)));
    }
    if let Some(h) = hint {
        s.push_str(&format!("; hint: {}", clean(h)));
    }
    s
}

/// The server's error in an anyhow chain, in the words of [`describe_pg_error`], by either route.
pub fn describe_error(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| {
        pg_error_in(c)
            .map(describe_pg_error)
            .or_else(|| server_error_in(c).map(describe_server_error))
    })
}

/// Whether an error means the session with the server is gone (closed, shut down, terminated), by
/// either route.
pub fn connection_lost(e: &anyhow::Error) -> bool {
    let fatal = |c: &SqlState| {
        *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CRASH_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW
    };
    if let Some(pe) = e.chain().find_map(pg_error_in) {
        return pe.is_closed()
            || match pe.code() {
                None => pe.as_db_error().is_none(),
                Some(c) => fatal(c),
            };
    }
    if let Some(se) = e.chain().find_map(server_error_in) {
        return fatal(&SqlState::from_code(&se.code));
    }
    e.chain()
        .any(|c| wire_errors_in(c).any(|x| x.downcast_ref::<wire::Disconnected>().is_some()))
}

/// "ERROR: message (SQLSTATE x)" with detail and hint, or the error's own chain for non-server errors.
pub fn describe_pg_error(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return server_words(
            db.severity(),
            db.message(),
            db.code().code(),
            db.detail(),
            db.hint(),
        );
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(&format!(": {cause}"));
        src = cause.source();
    }
    s
}

/// The server's own message (no severity, SQLSTATE, detail) of the first server error in an anyhow
/// chain, by either route.
pub fn server_message(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| {
        if let Some(pe) = pg_error_in(c) {
            return pe.as_db_error().map(|d| d.message().to_string());
        }
        server_error_in(c).map(|se| se.message.clone())
    })
}

/// The SQLSTATE of the first server error in an anyhow chain, by either route.
pub fn sqlstate(e: &anyhow::Error) -> Option<SqlState> {
    e.chain().find_map(|c| {
        if let Some(pe) = pg_error_in(c) {
            return pe.code().cloned();
        }
        server_error_in(c).map(|se| SqlState::from_code(&se.code))
    })
}

fn wants_password(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<postgres::Error>())
        .any(|pe| {
            pe.code() == Some(&SqlState::INVALID_PASSWORD)
                || (pe.as_db_error().is_none() && pe.to_string().contains("password missing"))
        })
}

pub fn prompt_password(spec: &ConnSpec) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(anyhow!(
            "-W needs a terminal to ask for the password; use PGPASSWORD or ~/.pgpass instead"
        ));
    }
    crate::term::password(&format!("Password for user {}", spec.user()))
}

/// Why a connection failed, in words that say what to do next.
pub fn explain_connect_error(e: anyhow::Error, spec: &ConnSpec) -> anyhow::Error {
    // Names from a conninfo, service or targets file may hold any character: shown escaped.
    let target = crate::text::clean(&spec.target_label()).into_owned();
    let user = crate::text::clean(spec.user()).into_owned();
    let Some(pe) = e.chain().find_map(|c| c.downcast_ref::<postgres::Error>()) else {
        let message = format!(
            "could not connect to {target}: {}",
            conninfo::redact(&format!("{e:#}"))
        );
        // Without a server error: a network failure (an io error, the connect timeout) or a local setup
        // problem (certificates, options).
        let network = e
            .chain()
            .any(|c| c.downcast_ref::<std::io::Error>().is_some())
            || e.chain().any(|c| c.to_string() == "timeout expired");
        return anyhow::Error::new(ConnectFailure {
            code: None,
            network,
            refusal: None,
            message,
        });
    };
    let detail = conninfo::redact(&describe_pg_error(pe));
    let lower = detail.to_lowercase();
    let tls = lower.contains("tls") || lower.contains("ssl") || lower.contains("certificate");
    let network = pe.code().is_none() && !tls && !conninfo::is_password_missing(&e);
    let msg = match pe.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
            "authentication failed for user \"{user}\" at {target} ({detail}). Check the password (-W, PGPASSWORD, \
             ~/.pgpass) and the server's pg_hba.conf"
        ),
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => format!(
            "database \"{}\" does not exist at {target} ({detail}). Give an existing one with -d (e.g. -d postgres)",
            crate::text::clean(spec.dbname())
        ),
        Some(c) if *c == SqlState::CANNOT_CONNECT_NOW => {
            format!("the server at {target} is starting up or shutting down ({detail}); try again shortly")
        }
        Some(_) => format!("could not connect to {target}: {detail}"),
        None => {
            if tls {
                format!(
                    "TLS negotiation with {target} failed: {detail}. Check sslmode, sslrootcert and that the \
                     server's certificate matches the host name"
                )
            } else if lower.contains("timeout") || lower.contains("timed out") {
                format!(
                    "could not connect to {target}: no answer within the connect timeout ({detail}). Is the host \
                     reachable and the port open? (--connect-timeout sets the limit)"
                )
            } else if lower.contains("password missing") {
                format!("the server at {target} asks for a password for user \"{user}\" and none was given (use -W, PGPASSWORD or ~/.pgpass)")
            } else if let Some(socket) = single_socket(spec) {
                // As psql says it: which socket file, and what to check.
                format!(
                    "connection to server on socket \"{}\" failed: {detail}. Is the server running locally \
                     and accepting connections on that socket?{}",
                    crate::text::clean(&socket.display().to_string()),
                    if spec.targets()[0].is_default() {
                        " (no host was given: like psql, pgconn then uses only this socket directory; give \
                         -h or PGHOST for another)"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "could not connect to {target}: {detail}. Is the server running and accepting connections there?"
                )
            }
        }
    };
    anyhow::Error::new(ConnectFailure {
        code: pe.code().cloned(),
        network,
        refusal: None,
        message: msg,
    })
}

/// The socket file when the spec names exactly one host and it is a Unix socket directory.
fn single_socket(spec: &ConnSpec) -> Option<std::path::PathBuf> {
    match spec.targets().as_slice() {
        [t] if t.is_socket() => t.socket_path(),
        _ => None,
    }
}

/// Marker in the error chain: the failure happened while connecting (monitoring maps it to a state).
#[derive(Debug)]
pub struct ConnectFailure {
    /// SQLSTATE when the server itself refused (e.g. 53300 too many connections).
    pub code: Option<SqlState>,
    /// The server could not be reached (refused, no answer, timeout), as opposed to a refusal by the
    /// server, a TLS failure or a missing password.
    pub network: bool,
    /// Why the server refused with SQLSTATE 53300 (told apart by [`refusal`]).
    pub refusal: Option<refusal::Refusal>,
    pub message: String,
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_statement_says_the_server_s_words_once_and_keeps_its_sqlstate() {
        let server = wire::ServerError {
            severity: "ERROR".into(),
            code: "25006".into(),
            message: "cannot execute ALTER DATABASE in a read-only transaction".into(),
            detail: None,
            hint: None,
        };
        let e = wire_sql_error(
            anyhow::Error::new(server).context("running a query"),
            "ALTER DATABASE app SET x = 1",
        )
        .context("could not change database \"app\"; nothing was changed");
        let text = format!("{e:#}");
        assert_eq!(
            text,
            "could not change database \"app\"; nothing was changed: ALTER DATABASE app SET x = 1: \
             ERROR: cannot execute ALTER DATABASE in a read-only transaction (SQLSTATE 25006)"
        );
        assert_eq!(sqlstate(&e), Some(SqlState::READ_ONLY_SQL_TRANSACTION));
        assert_eq!(
            server_message(&e).as_deref(),
            Some("cannot execute ALTER DATABASE in a read-only transaction")
        );
        assert!(describe_error(&e).unwrap().contains("(SQLSTATE 25006)"));
        assert!(!connection_lost(&e));
        // A broken connection under a statement is still seen as one.
        let gone = wire_sql_error(
            anyhow::Error::new(wire::Disconnected(
                "the server closed the connection".into(),
            )),
            "SELECT 1",
        );
        assert!(connection_lost(&gone));
        assert_eq!(
            format!("{gone:#}"),
            "SELECT 1: the server closed the connection"
        );
    }
}
