//! The emergency route: when the server refuses a normal connection because it is full (SQLSTATE 53300:
//! every slot taken, the reserved ones too, or a role or database connection limit), connect through a
//! WAL sender slot instead (`replication=database`, see [`crate::conninfo::ConnSpec::connect_walsender`]).
//! WAL senders take their slots from `max_wal_senders`, not `max_connections`, and a logical one runs
//! ordinary SQL: the same statements as the normal route, parameters written as literals.
//!
//! `--break-glass auto` retries once, on the host that refused, and says so; `always` goes there
//! directly; `never` never does (monitoring must not take the slots a standby may need). pgconn holds the
//! slot for the run only, checks first that it does not take the last one unannounced, and never starts
//! replication.

use anyhow::Result;
use postgres::error::SqlState;

use super::{
    describe_error, prompt_password, sqlstate, ConnectFailure, Db, Link, OWN_LOCK_TIMEOUT,
    OWN_STATEMENT_TIMEOUT,
};
use crate::conninfo::{self, ConnSpec};
use crate::report::ConnectionRoute;
use crate::text::clean;
use crate::wire;

/// When to use the emergency route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreakGlass {
    /// Never (check, watch, the fleet, scraping).
    #[default]
    Never,
    /// When the server refuses a normal connection with 53300 (the interactive commands).
    Auto,
    /// Straight away, without trying a normal connection.
    Always,
}

/// The check made over the emergency connection before anything else: how many WAL sender slots there
/// are and how many are in use (this one included).
static WAL_SENDERS_SQL: &str = include_str!("../sql/wal_senders.sql");

/// Whether a failed normal connection was refused because the server (or a limit) is full.
pub(super) fn server_full(e: &anyhow::Error) -> bool {
    sqlstate(e) == Some(SqlState::TOO_MANY_CONNECTIONS)
}

/// The server's words of a refusal, one line ("sorry, too many clients already").
fn refusal(e: &anyhow::Error) -> String {
    e.chain()
        .find_map(|c| {
            c.downcast_ref::<postgres::Error>()
                .and_then(|pe| pe.as_db_error())
                .map(|d| clean(d.message()).into_owned())
        })
        .unwrap_or_else(|| "too many connections".to_string())
}

fn options() -> String {
    format!("-c statement_timeout={OWN_STATEMENT_TIMEOUT} -c lock_timeout={OWN_LOCK_TIMEOUT}")
}

/// One WAL sender connection to host `i`, asking for a password when the server wants one, none is
/// known and a person is at the terminal.
fn open(spec: &mut ConnSpec, i: usize, ask: bool) -> Result<wire::Connection> {
    match spec.connect_walsender(i, Some(&options())) {
        Err(e)
            if ask
                && !spec.has_password()
                && e.chain()
                    .any(|c| c.downcast_ref::<wire::PasswordMissing>().is_some()) =>
        {
            let pw = prompt_password(spec)?;
            spec.set_password(pw);
            spec.connect_walsender(i, Some(&options()))
        }
        other => other,
    }
}

/// `--break-glass auto` after the normal connection was refused with 53300: once, on the host that
/// refused.
pub(super) fn connect_after_refusal(
    mut spec: ConnSpec,
    normal: anyhow::Error,
    ask: bool,
    show_sql: bool,
) -> Result<Db> {
    let i = conninfo::refused_by(&normal).unwrap_or(0);
    let words = refusal(&normal);
    let target = clean(&spec.label_of(i)).into_owned();
    crate::term::warning(&format!(
        "{target} refused a normal connection ({words}); connecting through a WAL sender slot \
         instead (replication=database; --break-glass never turns this off)"
    ));
    match open(&mut spec, i, ask) {
        Ok(conn) => finish(
            spec,
            conn,
            i,
            ConnectionRoute::replication(format!(
                "the server refused a normal connection: {words} (SQLSTATE 53300)"
            )),
            show_sql,
        ),
        Err(e) => {
            let normal_said = describe_error(&normal).unwrap_or_else(|| words.clone());
            let message = format!(
                "the server at {target} is out of connection slots ({}), and the emergency route \
                 failed too: {}\n{}",
                conninfo::redact(&normal_said),
                why_not(&e, &spec),
                next_steps(&spec, i)
            );
            Err(anyhow::Error::new(ConnectFailure {
                code: Some(SqlState::TOO_MANY_CONNECTIONS),
                network: false,
                message,
            }))
        }
    }
}

/// `--break-glass always`: the emergency route to the first host that takes it.
pub(super) fn connect_directly(mut spec: ConnSpec, ask: bool, show_sql: bool) -> Result<Db> {
    let mut last = None;
    for i in 0..spec.targets().len() {
        match open(&mut spec, i, ask) {
            Ok(conn) => {
                return finish(
                    spec,
                    conn,
                    i,
                    ConnectionRoute::replication("asked for with --break-glass always"),
                    show_sql,
                )
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| anyhow::anyhow!("no host to connect to"));
    let code = sqlstate(&e);
    let network = e
        .chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
        && code.is_none();
    let message = format!(
        "could not connect to {} through the emergency route (replication=database, --break-glass \
         always): {}",
        clean(&spec.target_label()),
        why_not(&e, &spec)
    );
    Err(anyhow::Error::new(ConnectFailure {
        code,
        network,
        message,
    }))
}

/// The Db over a WAL sender connection, after the check of the WAL sender slots.
fn finish(
    spec: ConnSpec,
    conn: wire::Connection,
    reached: usize,
    route: ConnectionRoute,
    show_sql: bool,
) -> Result<Db> {
    let mut db = Db {
        link: Link::Walsender(conn),
        route,
        show_sql,
        spec,
        reached,
        pooled: false,
        facts: None,
    };
    let row = db.query_one(WAL_SENDERS_SQL, &[])?;
    let max: i32 = row.get("max_wal_senders");
    let used: i32 = row.get("wal_senders");
    let hidden: i32 = row.get("hidden");
    if used >= max {
        crate::term::warning(&format!(
            "pgconn now holds the last free WAL sender slot (max_wal_senders = {max}, {used} in use \
             with this one): a standby or subscriber that reconnects during this run is refused \
             until pgconn ends"
        ));
    } else if used + hidden >= max {
        crate::term::warning(&format!(
            "pgconn may hold the last free WAL sender slot (max_wal_senders = {max}, {used} in use \
             with this one, and {hidden} sessions of other roles are hidden from role {}): a standby \
             that reconnects during this run may be refused until pgconn ends",
            clean(db.spec.user())
        ));
    }
    Ok(db)
}

/// Why the emergency route was refused, from what the server answered, in words that say what to do.
fn why_not(e: &anyhow::Error, spec: &ConnSpec) -> String {
    let user = clean(spec.user()).into_owned();
    let server = e
        .chain()
        .find_map(|c| c.downcast_ref::<wire::ServerError>());
    if let Some(se) = server {
        let said = super::describe_server_error(se);
        return match se.code.as_str() {
            // "must be superuser or replication role to start walsender"
            "42501" => format!(
                "role \"{user}\" may not open a WAL sender ({said}). It needs REPLICATION \
                 (superusers have it): ALTER ROLE \"{user}\" REPLICATION, or give -U a role that has it"
            ),
            "28P01" => format!(
                "authentication failed for user \"{user}\" ({said}). Check the password (-W, \
                 PGPASSWORD, ~/.pgpass)"
            ),
            "28000" => format!(
                "the server refused the login ({said}). A logical WAL sender is matched by the ordinary \
                 pg_hba.conf lines of its database (not the `replication` ones)"
            ),
            "53300" => format!(
                "every WAL sender slot is taken too ({said}; the limit is max_wal_senders)"
            ),
            _ => said,
        };
    }
    if e.chain()
        .any(|c| c.downcast_ref::<wire::PasswordMissing>().is_some())
    {
        return format!(
            "the server asks for a password for user \"{user}\" and none was given (use -W, \
             PGPASSWORD or ~/.pgpass)"
        );
    }
    conninfo::redact(&format!("{e:#}"))
}

/// What to do now that no route got in, and what makes the next incident easy. When the server that
/// refused (host `i`) runs on this machine, the exact `pgconn rescue` command for it.
fn next_steps(spec: &ConnSpec, i: usize) -> String {
    let user = clean(spec.user()).into_owned();
    let rescue = spec
        .targets()
        .get(i)
        .and_then(|h| crate::host::cluster::rescue_command(h.host(), h.is_socket(), h.port()));
    let now = match rescue {
        Some(cmd) => format!(
            "Next: the server runs on this machine: `{}` terminates its idle backends through the \
             operating system (SIGTERM, as pg_terminate_backend; it previews and asks first)",
            clean(&cmd)
        ),
        None => "Next: on the database host, as root or the cluster's OS user, `pgconn rescue` \
                 terminates idle backends through the operating system (SIGTERM, as \
                 pg_terminate_backend; never SIGKILL)"
            .to_string(),
    };
    format!(
        "{now}; or connect as a role with REPLICATION (`--break-glass always -U <role>`).\n\
         For the next incident: ALTER ROLE \"{user}\" REPLICATION (or another ops role) lets pgconn in \
         through a WAL sender slot; on PostgreSQL 16+ reserved_connections keeps slots for members of \
         pg_use_reserved_connections; ALTER ROLE <app role> CONNECTION LIMIT n stops one application \
         from taking every slot."
    )
}

/// The 53300 message when the emergency route was not tried (`--break-glass never`).
pub(super) fn not_tried(target: &str, detail: &str, spec: &ConnSpec, host: usize) -> String {
    format!(
        "the server at {target} is out of connection slots ({detail}). The emergency route through a \
         WAL sender slot was not tried (--break-glass never, the default of check, watch and several \
         targets): --break-glass always (or auto) tries it with a role that has REPLICATION.\n{}",
        next_steps(spec, host)
    )
}
