//! `pgconn sessions` (alias `ps`): one row per client session, longest in its state first.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use anyhow::Result;

use crate::activity::{self, Filter, Listing};
use crate::db::Db;
use crate::host::proc::ClientFinder;
use crate::report::sessions::{
    Collected, RemoteClient, SessionsHead, SessionsReport, SessionsSink, StatementGroup,
};
use crate::report::{ClientProcess, ClientProcessStatus, StatementFingerprint, StatementSource};
use crate::text;

/// What `sessions` is asked.
#[derive(Debug, Clone, Default)]
pub struct SessionsRequest {
    pub filter: Filter,
    /// At most this many rows (the longest in their state first); none: all.
    pub limit: Option<usize>,
    /// Mark the server connections of this PgBouncer (its admin console).
    pub pgbouncer: Option<String>,
    /// Find the client process behind each session on this host (`--processes`).
    pub processes: bool,
    /// Only sessions waiting on a lock someone holds, each with the head of its chain.
    pub blocked: bool,
    /// Fingerprint each session's last statement and group the sessions by it (`--by-statement`).
    pub by_statement: bool,
}

/// A session's last statement as a fingerprint: the server's `query_id` where it computed one, else a
/// hash of the normalised text (`text::sql`); the sessions that never ran a statement, and those this
/// role cannot see, each form a group of their own. `cut`: the server cut the text at
/// track_activity_query_size (the text's hash is then of what is left, and marked so).
pub fn statement_fingerprint(
    visible: bool,
    never_queried: bool,
    query_id: Option<i64>,
    query: Option<&str>,
    cut: bool,
) -> StatementFingerprint {
    let none = |source: StatementSource, id: &str| StatementFingerprint {
        statement: id.into(),
        statement_source: source,
        statement_text: None,
        statement_cut: false,
    };
    if !visible {
        return none(StatementSource::NotVisible, "not_visible");
    }
    let query = query.unwrap_or("");
    if never_queried || (query.trim().is_empty() && query_id.is_none()) {
        return none(StatementSource::NeverQueried, "never_queried");
    }
    let text = text::sql::normalise(query);
    let (statement, source) = match query_id.filter(|&q| q != 0) {
        Some(q) => (text::sql::query_id_fingerprint(q), StatementSource::QueryId),
        None => (text::sql::text_fingerprint(&text), StatementSource::Text),
    };
    StatementFingerprint {
        statement,
        statement_source: source,
        statement_text: Some(text),
        statement_cut: cut,
    }
}

/// The sessions per fingerprint, in the order they came (the first session's text names the group).
#[derive(Default)]
struct StatementGroups {
    groups: Vec<StatementGroup>,
    at: std::collections::HashMap<String, usize>,
}

impl StatementGroups {
    fn add(&mut self, s: &crate::report::Session) {
        let Some(f) = &s.statement else { return };
        let i = *self.at.entry(f.statement.clone()).or_insert_with(|| {
            self.groups.push(StatementGroup {
                fingerprint: f.clone(),
                sessions: 0,
                states: BTreeMap::new(),
            });
            self.groups.len() - 1
        });
        let g = &mut self.groups[i];
        // the first session's text names the group, and its cut flag is that text's
        g.sessions += 1;
        let state = s
            .state
            .as_ref()
            .map_or_else(|| "not_visible".into(), |st| st.key());
        *g.states.entry(state).or_insert(0) += 1;
    }

    /// Largest first (a stable sort: equal groups keep the order their first session came in).
    fn list(mut self) -> Vec<StatementGroup> {
        self.groups.sort_by_key(|g| std::cmp::Reverse(g.sessions));
        self.groups
    }
}

/// The whole report, for the layouts that need every session at once.
pub fn collect(db: &mut Db, args: &SessionsRequest) -> Result<SessionsReport> {
    let mut collected = Collected::default();
    stream(db, args, &mut collected)?;
    Ok(collected.into_report())
}

/// The report into `sink` as the server sends it: the head once the first row is in, then each session,
/// then the warnings. Nothing reaches the sink before the statement has succeeded.
pub fn stream(db: &mut Db, args: &SessionsRequest, sink: &mut dyn SessionsSink) -> Result<()> {
    // Only the pooler's server connections are needed (SHOW SERVERS, not the whole console), and before
    // the sessions, so that each is marked as it arrives.
    let pooler: Option<HashSet<i32>> = match &args.pgbouncer {
        Some(ci) => Some(
            crate::pgbouncer::Console::connect(ci, db.show_sql())?
                .server_pids()?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let (target, connection) = (db.target_label(), db.route().clone());
    let mut head = Some(SessionsHead {
        target,
        connection,
        count: 0,
        not_visible: 0,
    });
    let mut not_visible = 0;
    // The server's port: in its unix socket's name and the far end of its TCP connections.
    let server_port = if args.processes {
        activity::server_port_and_pid(db)?
    } else {
        None
    };
    // Read once, when the first session arrives (after the statement ran: a session it lists was
    // connected before /proc is read).
    let mut finder: Option<ClientFinder> = None;
    // Behind PgBouncer, a session's client is the PgBouncer client linked to it now (session pooling,
    // or a transaction in progress), not PgBouncer itself.
    let linked = match (&args.pgbouncer, args.processes) {
        (Some(ci), true) => crate::pgbouncer::linked_clients(ci, db.show_sql())?,
        _ => Default::default(),
    };
    let mut remote = RemoteClients::default();
    // Sessions waiting for a prepared transaction (pid 0 among their blockers).
    let mut waiting_for_prepared: Vec<i32> = Vec::new();
    let mut statements = StatementGroups::default();
    // The limit is the statement's own: rows past it are not sent, and the counts still cover them.
    activity::each_session(
        db,
        &args.filter,
        true,
        args.limit,
        args.blocked,
        args.by_statement,
        |listing| {
            match listing {
                Listing::Counts {
                    matched,
                    not_visible: hidden,
                } => {
                    not_visible = hidden;
                    if let Some(mut head) = head.take() {
                        head.count = matched;
                        head.not_visible = hidden;
                        sink.head(&head)?;
                    }
                }
                Listing::Session(s) => {
                    if s.blocked_by.contains(&0) {
                        waiting_for_prepared.push(s.pid);
                    }
                    if let Some(pids) = &pooler {
                        s.via_pgbouncer = pids.contains(&s.pid);
                    }
                    if args.processes {
                        s.process = Some(match server_port {
                            Some((port, own)) => {
                                let f = finder.get_or_insert_with(|| ClientFinder::read(port, own));
                                match linked.get(&s.pid) {
                                    Some(l) => f.find_pooler_client(l),
                                    None => f.find(s.pid, s.client.as_deref(), s.client_port),
                                }
                            }
                            None => ClientProcess::unresolved(
                                ClientProcessStatus::OtherNetworkNamespace,
                            ),
                        });
                        let not_local = s.process.as_ref().map(|p| p.client_process_status)
                            == Some(ClientProcessStatus::NotLocal);
                        if let (true, Some(f), Some(client)) = (not_local, &finder, &s.client) {
                            if let Some(server) = f.server_address(client, s.client_port) {
                                remote.add(s, server, f.server_port());
                            }
                        }
                    }
                    if args.by_statement {
                        s.statement = Some(statement_fingerprint(
                            s.visible,
                            s.never_queried,
                            s.query_id,
                            s.query.as_deref(),
                            s.query_cut,
                        ));
                        statements.add(s);
                    }
                    sink.session(s)?;
                }
            }
            Ok(())
        },
    )?;
    let mut warnings = Vec::new();
    if not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            not_visible,
            &db.facts()?.current_user,
            "their state, ages and query are hidden",
        ));
    }
    // Asked only when a session waits for a prepared transaction (pid 0 among its blockers).
    let prepared = if waiting_for_prepared.is_empty() {
        Vec::new()
    } else {
        activity::prepared_transactions(db)?
    };
    if !waiting_for_prepared.is_empty() {
        warnings.push(prepared_warning(&waiting_for_prepared, prepared.len()));
    }
    sink.remote_clients(&remote.list())?;
    sink.statements(&statements.list())?;
    sink.tail(&prepared, &warnings)?;
    Ok(())
}

/// The warning for sessions blocked by pid 0: a prepared transaction holds the lock, and no session
/// stands behind it (so no kill ends it).
fn prepared_warning(pids: &[i32], prepared: usize) -> String {
    let list: Vec<String> = pids.iter().take(10).map(i32::to_string).collect();
    let more = if pids.len() > 10 { ", …" } else { "" };
    format!(
        "{} session(s) wait for a prepared transaction (pid 0 in blocked_by: {}{more}); no session \
         holds it, so no kill ends it. The candidates are the {prepared} listed in \
         prepared_transactions; end one with COMMIT PREPARED '<gid>' or ROLLBACK PREPARED '<gid>' (in \
         its database)",
        pids.len(),
        list.join(", ")
    )
}

/// The sessions whose client is on another host, per group (database, user, application) and client
/// address: how many, and the `ss` filter for the first one's connection (the longest in its state).
#[derive(Default)]
struct RemoteClients {
    groups: BTreeMap<GroupName, BTreeMap<String, (usize, String)>>,
}

/// A leak group's name: database, user, application.
type GroupName = (Option<String>, Option<String>, String);

/// At most this many client addresses of one group get their `ss` command.
const REMOTE_ADDRESSES: usize = 5;

/// `ss -tnp 'dst 10.0.0.5:5432 and sport = :41620'`: run on the client's host, it names the process
/// holding that connection (an IPv6 address in brackets, as ss writes it).
pub fn ss_command(server: IpAddr, port: u16, client_port: i32) -> String {
    let server = match server {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    format!("ss -tnp 'dst {server}:{port} and sport = :{client_port}'")
}

impl RemoteClients {
    fn add(&mut self, s: &crate::report::Session, server: IpAddr, port: u16) {
        let (Some(client), Some(client_port)) = (&s.client, s.client_port) else {
            return;
        };
        let e = self
            .groups
            .entry((s.database.clone(), s.user.clone(), s.application.clone()))
            .or_default()
            .entry(client.clone())
            .or_insert_with(|| (0, ss_command(server, port, client_port)));
        e.0 += 1;
    }

    fn list(&self) -> Vec<RemoteClient> {
        let mut out = Vec::new();
        for ((database, user, application), clients) in &self.groups {
            let mut by_count: Vec<_> = clients.iter().collect();
            by_count.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
            for (client, (sessions, command)) in by_count.into_iter().take(REMOTE_ADDRESSES) {
                out.push(RemoteClient {
                    database: database.clone(),
                    user: user.clone(),
                    application: application.clone(),
                    client: client.clone(),
                    sessions: *sessions,
                    command: command.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Session;

    #[test]
    fn each_group_gets_one_ss_command_per_client_address_at_most_five() {
        let mut r = RemoteClients::default();
        let server: IpAddr = "10.0.0.5".parse().unwrap();
        let session = |app: &str, client: &str, port: i32| Session {
            database: Some("appdb".into()),
            user: Some("app".into()),
            application: app.into(),
            client: Some(client.into()),
            client_port: Some(port),
            ..Session::default()
        };
        // Seven hosts of one application, the first with three sessions; one host of another.
        for (i, port) in [41000, 41001, 41002].into_iter().enumerate() {
            r.add(&session("php", "10.0.1.1", port + i as i32), server, 5432);
        }
        for h in 2..=7 {
            r.add(
                &session("php", &format!("10.0.1.{h}"), 42000 + h),
                server,
                5432,
            );
        }
        r.add(
            &session("cron", "fd00::7", 43000),
            "fd00::5".parse().unwrap(),
            5432,
        );
        let list = r.list();
        let php: Vec<_> = list.iter().filter(|c| c.application == "php").collect();
        assert_eq!(php.len(), 5, "{list:#?}");
        assert_eq!(php[0].client, "10.0.1.1");
        assert_eq!(php[0].sessions, 3);
        assert_eq!(
            php[0].command, "ss -tnp 'dst 10.0.0.5:5432 and sport = :41000'",
            "the first (longest in its state) session's port"
        );
        let cron: Vec<_> = list.iter().filter(|c| c.application == "cron").collect();
        assert_eq!(
            cron[0].command,
            "ss -tnp 'dst [fd00::5]:5432 and sport = :43000'"
        );
    }
}
