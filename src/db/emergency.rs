//! The emergency route: when the server refuses a normal connection because it is full (SQLSTATE 53300:
//! every slot taken, or only the reserved ones left), connect through a WAL sender slot instead
//! (`replication=database`, see [`crate::conninfo::ConnSpec::connect_walsender`]). WAL senders take
//! their slots from `max_wal_senders`, not `max_connections`, and a logical one runs ordinary SQL: the
//! same statements as the normal route, parameters written as literals.
//!
//! `--break-glass auto` retries once, on the host that refused, and says so — for a full server, not for
//! a role's or a database's CONNECTION LIMIT (the server may have free slots then, and a standby may need
//! the WAL sender slot more; see [`Refusal::takes_the_route`]); `always` goes there directly; `never`
//! never does (monitoring must not take the slots a standby may need). pgconn holds the slot for the run
//! only, checks first that it does not take the last one unannounced, confirms the refusal's cause from
//! the server's own numbers, and never starts replication. Every refusal's message says what is true for
//! its cause and what to do.

use anyhow::Result;
use postgres::error::SqlState;

use super::refusal::Refusal;
use super::{
    describe_error, prompt_password, server_message, sqlstate, ConnectFailure, Db, Link,
    OWN_LOCK_TIMEOUT, OWN_STATEMENT_TIMEOUT,
};
use crate::conninfo::{self, ConnSpec};
use crate::report::platform::Platform;
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

/// Over the emergency connection, after a refusal: the WAL sender check and the server's own numbers
/// behind the refusal (client backends counted by the one rule of `client_backend_rule.sql`, and the
/// reserved slots), in one round trip.
static CONFIRM_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH c AS (\n{}\n), w AS (\n{}\n)\n{}",
        include_str!("../sql/client_backends.sql")
            .trim_end()
            .replace(
                "/*CLIENT_BACKEND_RULE*/",
                include_str!("../sql/client_backend_rule.sql")
                    .split_once('\n')
                    .map_or("", |(_, rule)| rule)
                    .trim_end()
            ),
        WAL_SENDERS_SQL.trim_end(),
        include_str!("../sql/refusal_confirm.sql").trim_end()
    )
});

/// Why a failed normal connection was refused, when the server refused it with SQLSTATE 53300 (the
/// cause read from its words, see [`Refusal::from_message`]).
pub(super) fn refusal_of(e: &anyhow::Error) -> Option<Refusal> {
    (sqlstate(e) == Some(SqlState::TOO_MANY_CONNECTIONS))
        .then(|| Refusal::from_message(&server_message(e).unwrap_or_default()))
}

/// The server's words of a refusal, one line ("sorry, too many clients already").
fn refusal(e: &anyhow::Error) -> String {
    server_message(e)
        .map(|m| clean(&m).into_owned())
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

/// `--break-glass auto` after the normal connection was refused with 53300 for a cause that takes the
/// route (a full server, or only reserved slots left): once, on the host that refused.
pub(super) fn connect_after_refusal(
    mut spec: ConnSpec,
    normal: anyhow::Error,
    cause: Refusal,
    ask: bool,
    show_sql: bool,
) -> Result<Db> {
    let i = conninfo::refused_by(&normal).unwrap_or(0);
    let words = refusal(&normal);
    let target = clean(&spec.label_of(i)).into_owned();
    let why = cause.route_reason(&words);
    let taken = format!(
        "{target} refused a normal connection: {why}; connecting through a WAL sender slot instead \
         (replication=database; --break-glass never turns this off)"
    );
    match open(&mut spec, i, ask) {
        Ok(conn) => finish(
            spec,
            conn,
            i,
            ConnectionRoute::replication(format!(
                "the server refused a normal connection: {words} (SQLSTATE 53300)"
            ))
            .because(cause.kind()),
            show_sql,
            Some((&cause, taken)),
        ),
        Err(e) => {
            let normal_said = conninfo::redact(&describe_error(&normal).unwrap_or(words));
            let message = format!(
                "{}; and the emergency route (a WAL sender slot) failed too: {}\n{}",
                cause.headline(&target, &clean(spec.user()), &normal_said),
                why_not(&e, &spec, &cause),
                next_steps(&spec, i, &cause, Route::Failed(&e))
            );
            Err(anyhow::Error::new(ConnectFailure {
                code: Some(SqlState::TOO_MANY_CONNECTIONS),
                network: false,
                refusal: Some(cause),
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
                    None,
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
        why_not(&e, &spec, &Refusal::Full { recognised: true })
    );
    Err(anyhow::Error::new(ConnectFailure {
        code,
        network,
        refusal: route_refusal(&e),
        message,
    }))
}

/// The Db over a WAL sender connection, after the check of the WAL sender slots and, when a normal
/// connection was refused first, the server's numbers behind that refusal.
fn finish(
    spec: ConnSpec,
    conn: wire::Connection,
    reached: usize,
    route: ConnectionRoute,
    show_sql: bool,
    refused: Option<(&Refusal, String)>,
) -> Result<Db> {
    // The connection options' warnings first, then why the route was taken, then what it found.
    let mut route = route;
    route.warnings = spec.warnings().to_vec();
    let refused = refused.map(|(cause, taken)| {
        route.warnings.push(taken);
        cause
    });
    let mut db = Db {
        link: Link::Walsender(conn),
        route,
        show_sql,
        spec,
        reached,
        pooled: false,
        pooled_begin: None,
        facts: None,
    };
    let row = match refused {
        Some(_) => db.query_one(&CONFIRM_SQL, &[])?,
        None => db.query_one(WAL_SENDERS_SQL, &[])?,
    };
    let max: i32 = row.try_get("max_wal_senders")?;
    let used: i32 = row.try_get("wal_senders")?;
    let hidden: i32 = row.try_get("hidden")?;
    if used >= max {
        db.route.warnings.push(format!(
            "pgconn now holds the last free WAL sender slot (max_wal_senders = {max}, {used} in use \
             with this one): a standby or subscriber that reconnects during this run is refused \
             until pgconn ends"
        ));
    } else if used + hidden >= max {
        let user = clean(db.spec.user()).into_owned();
        db.route.warnings.push(format!(
            "pgconn may hold the last free WAL sender slot (max_wal_senders = {max}, {used} in use \
             with this one, and {hidden} sessions of other roles are hidden from role {}): a standby \
             that reconnects during this run may be refused until pgconn ends",
            user
        ));
    }
    if let Some(cause) = refused {
        let slots = Slots {
            max_connections: row.try_get("max_connections")?,
            superuser_reserved: row.try_get("superuser_reserved_connections")?,
            reserved: row.try_get("reserved_connections")?,
            used: row.try_get("used")?,
        };
        let (confirmed, note) = slots.confirm(cause);
        if let Some(reason) = db.route.reason.as_mut() {
            reason.push_str("; ");
            reason.push_str(&confirmed);
        }
        if let Some(note) = note {
            db.route.notes.push(note);
        }
    }
    Ok(db)
}

/// The server's numbers behind a refusal, read over the emergency connection.
#[derive(Debug, Clone, Copy)]
struct Slots {
    max_connections: i32,
    superuser_reserved: i32,
    /// reserved_connections (16+)
    reserved: Option<i32>,
    /// Client backends holding a slot now (pgconn's WAL sender is none of them).
    used: i32,
}

impl Slots {
    /// What the numbers say about the refusal (for the route's reason), and a note for the person when
    /// reserved slots are free.
    fn confirm(&self, cause: &Refusal) -> (String, Option<String>) {
        let max = self.max_connections;
        let used = self.used;
        let reserved = self.superuser_reserved + self.reserved.unwrap_or(0);
        let ordinary = max - reserved;
        let settings = match self.reserved {
            Some(r) if r > 0 => format!(
                "superuser_reserved_connections = {}, reserved_connections = {r}",
                self.superuser_reserved
            ),
            _ => format!(
                "superuser_reserved_connections = {}",
                self.superuser_reserved
            ),
        };
        let free = (max - used).max(0);
        if used >= max {
            return (
                format!(
                    "the server's numbers: all {max} slots of max_connections are in use, the \
                     {reserved} reserved ones ({settings}) included"
                ),
                None,
            );
        }
        if used < ordinary {
            return (
                format!(
                    "the server's numbers now: {used} of max_connections = {max} slots in use, {} \
                     ordinary slots free again since the refusal",
                    ordinary - used
                ),
                None,
            );
        }
        let confirmed = format!(
            "the server's numbers: {used} of max_connections = {max} slots in use; the {free} left \
             are reserved ({settings})"
        );
        let note = matches!(cause, Refusal::ReservedOnly(_)).then(|| {
            format!(
                "{free} of the {reserved} reserved connection slots are free: a superuser connects \
                 normally (`-U <superuser>`) while they last"
            )
        });
        (confirmed, note)
    }
}

/// The cause of a 53300 refusal of a WAL sender connection, if that is how the route was refused.
fn route_refusal(e: &anyhow::Error) -> Option<Refusal> {
    let se = e
        .chain()
        .find_map(|c| c.downcast_ref::<wire::ServerError>())?;
    (se.code == "53300").then(|| Refusal::from_walsender_message(&se.message))
}

/// Why the emergency route was refused, from what the server answered, in words that say what to do.
/// `cause` is why the normal connection was refused (a full server when there was none).
fn why_not(e: &anyhow::Error, spec: &ConnSpec, cause: &Refusal) -> String {
    let user = clean(spec.user()).into_owned();
    let server = e
        .chain()
        .find_map(|c| c.downcast_ref::<wire::ServerError>());
    if let Some(se) = server {
        let said = super::describe_server_error(se);
        return match se.code.as_str() {
            // "must be superuser or replication role to start walsender". With reserved slots left
            // the way in is a superuser's normal connection (see Next), not REPLICATION for this role.
            "42501" if matches!(cause, Refusal::ReservedOnly(_)) => {
                format!("role \"{user}\" may not open a WAL sender ({said})")
            }
            "42501" => format!(
                "role \"{user}\" may not open a WAL sender ({said}). It needs REPLICATION \
                 (superusers have it): ALTER ROLE {} REPLICATION, or give -U a role that has it",
                crate::report::sql_name(&user)
            ),
            "28P01" => format!(
                "authentication failed for user \"{user}\" ({said}). Check the password (-W, \
                 PGPASSWORD, ~/.pgpass)"
            ),
            "28000" => format!(
                "the server refused the login ({said}). A logical WAL sender is matched by the ordinary \
                 pg_hba.conf lines of its database (not the `replication` ones)"
            ),
            "53300" => match Refusal::from_walsender_message(&se.message) {
                // (None of them at all, max_wal_senders = 0, is said by what() as the other causes.)
                Refusal::WalSendersFull { max_wal_senders } if max_wal_senders != Some(0) => format!(
                    "every WAL sender slot is taken too ({said}; the limit is max_wal_senders)"
                ),
                other => format!("{} ({said})", other.what()),
            },
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

/// How far the emergency route got.
enum Route<'a> {
    /// Not tried: `--break-glass never`.
    NotTried,
    /// Tried and refused with this error.
    Failed(&'a anyhow::Error),
}

/// What to do now that no route got in, and what makes the next incident easy, for a full server or
/// reserved slots (`cause`). When the server that refused (host `i`) runs on this machine, the exact
/// `pgconn rescue` command for it.
fn next_steps(spec: &ConnSpec, i: usize, cause: &Refusal, route: Route<'_>) -> String {
    let user = clean(spec.user()).into_owned();
    let rescue = spec.targets().get(i).and_then(|h| {
        crate::host::cluster::rescue_command(h.host(), h.hostaddr(), h.is_socket(), h.port())
    });
    let managed = super::spec_platform(spec, i);
    let rescue = match (rescue, managed) {
        (_, Some(p)) => provider_way_out(p),
        (Some(cmd), None) => format!(
            "the server runs on this machine: `{}` terminates its idle backends through the \
             operating system (SIGTERM, as pg_terminate_backend; it previews and asks first)",
            clean(&cmd)
        ),
        (None, None) => "on the database host, as root or the cluster's OS user, `pgconn rescue` \
                 terminates idle backends through the operating system (SIGTERM, as \
                 pg_terminate_backend; never SIGKILL)"
            .to_string(),
    };
    let (route_refusal, lacks_replication) = match route {
        Route::Failed(e) => (
            route_refusal(e),
            e.chain()
                .find_map(|c| c.downcast_ref::<wire::ServerError>())
                .is_some_and(|se| se.code == "42501"),
        ),
        Route::NotTried => (None, false),
    };
    let no_wal_senders = matches!(
        route_refusal,
        Some(Refusal::WalSendersFull {
            max_wal_senders: Some(0)
        })
    );
    // The WAL sender route is worth another try only when its slots were not the reason it failed.
    let via_route = if route_refusal.is_some() || managed.is_some_and(|p| !p.is_aws()) {
        String::new()
    } else {
        "; or connect as a role with REPLICATION (`--break-glass always -U <role>`)".to_string()
    };
    let now = match cause {
        Refusal::ReservedOnly(who) if managed.is_some_and(|p| p.is_aws()) => format!(
            "Next: `pgconn -U <master user> status` (a member of rds_superuser or rds_reserved): {} \
             connect normally while reserved slots are left. Only if that is refused too: \
             {rescue}{via_route}",
            who.who()
        ),
        Refusal::ReservedOnly(who) => format!(
            "Next: `pgconn -U <superuser> status` (e.g. -U postgres): {} connect normally while \
             reserved slots are left. Only if that is refused too: {rescue}{via_route}",
            who.who()
        ),
        _ => format!("Next: {rescue}{via_route}"),
    };
    // REPLICATION for this role only when the server said it lacks it and it is not an application
    // role refused from the reserved slots; never when the WAL sender slots were the reason (the
    // server refused those before it looked at the role).
    let replication = if no_wal_senders {
        "max_wal_senders above 0 (it needs wal_level replica and a restart) makes the WAL sender \
         route possible"
            .to_string()
    } else if route_refusal.is_some() {
        "a higher max_wal_senders (a restart) leaves a WAL sender slot for pgconn besides the \
         standbys"
            .to_string()
    } else if lacks_replication && !matches!(cause, Refusal::ReservedOnly(_)) {
        format!(
            "ALTER ROLE {} REPLICATION (or another ops role) lets pgconn in through a WAL sender slot",
            crate::report::sql_name(&user)
        )
    } else {
        "an operator's role with REPLICATION (ALTER ROLE <ops role> REPLICATION) lets pgconn in \
         through a WAL sender slot"
            .to_string()
    };
    if managed.is_some() {
        // No ALTER ROLE … REPLICATION nor reserved_connections of one's own on a managed service.
        return format!(
            "{now}.\nFor the next incident: ALTER ROLE <app role> CONNECTION LIMIT n stops one \
             application from taking every slot."
        );
    }
    format!(
        "{now}.\nFor the next incident: {replication}; on PostgreSQL 16+ reserved_connections keeps \
         slots for members of pg_use_reserved_connections; ALTER ROLE <app role> CONNECTION LIMIT n \
         stops one application from taking every slot."
    )
}

/// What exists on a managed platform when every slot is taken: no host to log into (so no `pgconn
/// rescue`); the WAL sender route where the provider allows it, else its restart, else its pooler.
fn provider_way_out(p: Platform) -> String {
    let how = match p {
        Platform::AwsRds | Platform::AwsAurora => {
            "the WAL sender route needs a role RDS lets open replication=database connections (a \
             member of rds_replication: unverified); else reboot the instance (`aws rds \
             reboot-db-instance --db-instance-identifier <instance-id>`: it ends every session); \
             RDS Proxy in front of the applications keeps this from recurring"
        }
        Platform::CloudSql => {
            "restart the instance (`gcloud sql instances restart <instance-name>`: it ends every \
             session); Cloud SQL's managed connection pooling in front of the applications keeps this \
             from recurring"
        }
        Platform::AzureFlexible => {
            "restart the server (`az postgres flexible-server restart --resource-group <resource-group> \
             --name <server-name>`: it ends every session); the built-in PgBouncer on port 6432 \
             (server parameter pgbouncer.enabled = true) keeps this from recurring"
        }
        Platform::Supabase => {
            "restart the project from the Supabase dashboard (it ends every session); connect the \
             applications through Supavisor (transaction mode, port 6543) to keep this from recurring"
        }
        Platform::Neon => {
            "restart the compute from the Neon console (it ends every session); connect the \
             applications through the -pooler host name (PgBouncer, transaction mode) to keep this \
             from recurring"
        }
    };
    format!(
        "{} gives no host to log into (pgconn's route through the operating system cannot run \
         there): {how}",
        p.title()
    )
}

/// The error of a 53300 refusal when no WAL sender slot is taken for it: `--break-glass never`, or a
/// role's or a database's limit under `auto` (`mode`).
pub(super) fn refused(
    e: &anyhow::Error,
    spec: &ConnSpec,
    cause: Refusal,
    mode: super::BreakGlass,
) -> anyhow::Error {
    let host = conninfo::refused_by(e).unwrap_or(0);
    let target = clean(&spec.label_of(host)).into_owned();
    let said = conninfo::redact(&describe_error(e).unwrap_or_else(|| refusal(e)));
    let headline = cause.headline(&target, &clean(spec.user()), &said);
    let message = match cause.limit_steps() {
        Some(steps) => {
            let route = if mode == super::BreakGlass::Never {
                "The emergency route through a WAL sender slot was not tried (--break-glass never)"
            } else {
                "pgconn took no WAL sender slot for this: those are kept for a full server and the \
                 standbys (--break-glass always takes one anyway)"
            };
            let mut m = format!("{headline}. {route}.\n{steps}");
            // --fallback-user: what holds the role, seen as another one.
            if let (Refusal::RoleLimit { role }, Some(fallback)) = (&cause, spec.fallback()) {
                m.push('\n');
                m.push_str(&super::fallback::sessions_of(fallback, role));
            }
            m
        }
        None => format!(
            "{headline}. The emergency route through a WAL sender slot was not tried (--break-glass \
             never, the default of check, watch and several targets): --break-glass always (or auto) \
             tries it with a role that has REPLICATION.\n{}",
            next_steps(spec, host, &cause, Route::NotTried)
        ),
    };
    anyhow::Error::new(ConnectFailure {
        code: Some(SqlState::TOO_MANY_CONNECTIONS),
        network: false,
        refusal: Some(cause),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::refusal::Reserved;

    fn slots(used: i32, reserved: Option<i32>) -> Slots {
        Slots {
            max_connections: 10,
            superuser_reserved: 2,
            reserved,
            used,
        }
    }

    #[test]
    fn the_numbers_confirm_the_refusal_or_say_what_changed_since() {
        let reserved_only = Refusal::ReservedOnly(Reserved::Superusers);
        let (said, note) = slots(8, None).confirm(&reserved_only);
        assert_eq!(
            said,
            "the server's numbers: 8 of max_connections = 10 slots in use; the 2 left are reserved \
             (superuser_reserved_connections = 2)"
        );
        assert_eq!(
            note.as_deref(),
            Some(
                "2 of the 2 reserved connection slots are free: a superuser connects normally \
                 (`-U <superuser>`) while they last"
            )
        );
        let (said, _) = slots(7, Some(1)).confirm(&reserved_only);
        assert!(
            said.ends_with(
                "the 3 left are reserved (superuser_reserved_connections = 2, reserved_connections = 1)"
            ),
            "{said}"
        );
        // Every slot taken: no free reserved slot to speak of.
        let (said, note) = slots(10, None).confirm(&Refusal::Full { recognised: true });
        assert!(
            said.contains("all 10 slots of max_connections are in use"),
            "{said}"
        );
        assert_eq!(note, None);
        // Sessions ended between the refusal and the reading.
        let (said, note) = slots(5, None).confirm(&reserved_only);
        assert!(
            said.contains("5 of max_connections = 10 slots in use, 3 ordinary slots free again"),
            "{said}"
        );
        assert_eq!(note, None);
    }
}
