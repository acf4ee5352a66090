//! rescue's plan: the cluster found, its children's titles read, trusted or not, and selected.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde_json::json;

use crate::activity::{format_timestamp, pattern_matches};
use crate::commands::audit::AuditLog;
use crate::exit::refuse;
use crate::host::pidfd::Pidfd;
use crate::host::proc::{self, Clock, Process};
use crate::host::sockets::Sockets;
use crate::host::wait;
use crate::host::{cluster, conf, title, Postmaster, Title};
use crate::report::batch::BatchRun;
use crate::report::kill::Action;
use crate::report::rescue::{
    Backend, ClusterInfo, Evidence, Group, OtherProcess, RescueReport, Selection, Unreadable,
};
use crate::report::{round3, State};

use super::*;

pub(super) fn find(req: &RescueRequest) -> Result<Postmaster> {
    match (&req.pgdata, req.postmaster_pid) {
        (Some(dir), _) => cluster::from_pgdata(dir),
        (None, Some(pid)) => cluster::from_pid(pid),
        (None, None) => cluster::only(),
    }
}

/// Whether a backend matches the selection (patterns as everywhere in pgconn; states as its title
/// shows them; connected for longer than asked).
pub(super) fn selected(b: &Backend, s: &Selection) -> bool {
    let any = |pats: &[String], v: &str| pats.iter().any(|p| pattern_matches(p, v));
    let include = |pats: &[String], v: &str| pats.is_empty() || any(pats, v);
    b.state.as_ref().is_some_and(|st| s.states.contains(st))
        && include(&s.db, &b.database)
        && include(&s.user, &b.user)
        && include(&s.client, &b.client)
        && !any(&s.exclude_db, &b.database)
        && !any(&s.exclude_user, &b.user)
        && !any(&s.exclude_client, &b.client)
        && s.connected_longer_than_seconds
            .is_none_or(|min| b.connected_seconds > min)
}

/// A child's title, read; a client backend's title that may have been cut short (its activity is
/// last) or is not valid UTF-8 (names in another encoding would not compare as given) is unreadable.
pub(super) fn read_title(p: &Process, prefix: &str) -> Title {
    match title::parse(&p.title, prefix) {
        Title::Client(_) if !p.title_utf8 => Title::Unreadable(
            "it is not valid UTF-8 (names in another encoding): pgconn could not compare them with \
             --user, --db or --exclude-*"
                .into(),
        ),
        Title::Client(_) if p.title_truncated == Some(true) => Title::Unreadable(
            "it fills all the room PostgreSQL has for a title, so it may have been cut short, and its \
             state with it"
                .into(),
        ),
        Title::Client(_) if p.title_truncated.is_none() => Title::Unreadable(
            "/proc does not tell this user whether it was cut short (run as root or as the cluster's OS \
             user)"
                .into(),
        ),
        t => t,
    }
}

/// A client backend as the report shows it (its evidence decided later).
pub(super) fn backend(p: &Process, c: title::ClientTitle, clock: &Clock) -> Backend {
    let state = c.activity.state();
    Backend {
        pid: p.pid,
        started_at: format_timestamp(clock.started(p.start_ticks)),
        connected_seconds: round3(clock.age(p.start_ticks).as_secs_f64()),
        activity: c.activity.shown().to_string(),
        user: c.user,
        database: c.database,
        client: c.client,
        client_port: c.port,
        state,
        title: p.title.clone(),
        start_ticks: p.start_ticks,
        evidence: None,
    }
}

/// The postmaster's executable (device, inode), which every backend it forked runs too.
pub(super) fn postmaster_executable(pm: &Postmaster) -> Result<(u64, u64)> {
    proc::executable(pm.pid).map_err(|e| {
        refuse(format!(
            "cannot read which program the postmaster (pid {}) runs ({e}): pgconn cannot tell its \
             backends from other processes and signals nothing. Run as root or as the cluster's OS user",
            pm.pid
        ))
    })
}

/// Why process `p`, whose title reads like a client backend's, is not one of this postmaster's
/// backends (None when it is): a backend is the postmaster's child (checked by the caller), runs the
/// postmaster's own executable, was started after it, and leads its own session (every postmaster
/// child calls setsid at start; a program forked by a backend, such as one left by `COPY ... TO
/// PROGRAM` and adopted by a postmaster that is PID 1 of a container, inherits the backend's).
pub(super) fn not_a_backend(p: &Process, pm: &Postmaster, exe: (u64, u64)) -> Option<String> {
    match proc::executable(p.pid) {
        Ok(e) if e == exe => {}
        Ok(_) => {
            return Some(format!(
                "it runs {}, not the postmaster's executable",
                proc::executable_path(p.pid)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "another program".into())
            ))
        }
        Err(e) => return Some(format!("cannot read which program it runs ({e})")),
    }
    if p.session != p.pid {
        return Some(format!(
            "it is not the leader of its own session (session {}), as every PostgreSQL backend is",
            p.session
        ));
    }
    if p.start_ticks <= pm.start_ticks {
        return Some("it was started before the postmaster".into());
    }
    None
}

/// What decides whether a title is current: the configuration's last change, the clock that dates
/// processes, the cluster's sockets (None: this user cannot read them), and `--trust-titles`.
pub(super) struct Trust<'a> {
    pub(super) last_change: Option<&'a conf::Read>,
    pub(super) clock: &'a Clock,
    pub(super) sockets: Option<&'a Sockets>,
    pub(super) trust_titles: bool,
}

impl Trust<'_> {
    /// What makes backend `b`'s title current, or why nothing does: it connected after the
    /// configuration last changed; or the kernel shows it waiting for its client; or `--trust-titles`
    /// where the kernel would not tell.
    fn once(&self, b: &Backend) -> std::result::Result<Evidence, String> {
        let Some(change) = self.last_change else {
            return Ok(Evidence::ConfigUnchanged);
        };
        if self.clock.started_after(b.start_ticks, change.changed) {
            return Ok(Evidence::ConfigUnchanged);
        }
        let before = format!(
            "it connected before the configuration last changed ({}, {}), so its title may be stale",
            change.path.display(),
            format_timestamp(change.changed)
        );
        match wait::observe(b.pid, b.client_port, self.sockets) {
            wait::Seen::WaitingForClient => Ok(Evidence::WaitingForClient),
            wait::Seen::Hidden(_) if self.trust_titles => Ok(Evidence::TrustTitles),
            wait::Seen::Hidden(why) => Err(format!(
                "{before}, and {why}: run as root, or give --trust-titles to trust such titles"
            )),
            wait::Seen::Other(what) => Err(format!(
                "{before}, and the kernel does not show it waiting for its client: {what}"
            )),
        }
    }

    /// The kernel's view of a backend may catch it between two waits (an interrupt being handled):
    /// looked at up to three times before it counts.
    pub(super) fn evidence(&self, b: &Backend) -> std::result::Result<Evidence, String> {
        let mut result = self.once(b);
        for _ in 0..2 {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
            result = self.once(b);
        }
        result
    }
}

/// The settings the titles depend on, refused when they cannot be read or say titles are off.
pub(super) fn title_settings(pm: &Postmaster) -> Result<conf::Settings> {
    // Its command line may set update_process_title (`-c`): unknown, nothing is signalled.
    let args = proc::args(pm.pid).map_err(|e| {
        refuse(format!(
            "cannot read the postmaster's command line ({e}): pgconn cannot tell whether it turns \
             update_process_title off, and signals nothing"
        ))
    })?;
    let settings = conf::read(
        &pm.pgdata,
        &cluster::config_dir(pm.pid, &pm.pgdata, &args),
        &args,
    );
    if !settings.unreadable.is_empty() {
        return Err(refuse(format!(
            "cannot read the configuration ({}): pgconn cannot tell whether update_process_title is \
             off, and signals nothing without knowing that the titles are current. Run as root or as \
             the cluster's OS user; or get in through a WAL sender slot: pgconn kill-idle \
             --break-glass always -U <a role with REPLICATION>",
            settings.unreadable.join("; ")
        )));
    }
    if let Some(f) = settings.get("update_process_title") {
        let pgdata = crate::report::shell_quote(&pm.pgdata.display().to_string());
        match f.boolean() {
            Some(true) => {}
            Some(false) => {
                return Err(refuse(format!(
                    "update_process_title is off ({}): process titles do not show what a backend is \
                     doing, so pgconn cannot tell idle backends from busy ones and signals nothing. \
                     Now: get in through a WAL sender slot (pgconn kill-idle --break-glass always -U \
                     <a role with REPLICATION>); for the next incident set it on and reload (as the \
                     cluster's OS user: pg_ctl reload -D {pgdata})",
                    f.source,
                )))
            }
            None => {
                return Err(refuse(format!(
                    "update_process_title = {} ({}) is not a boolean PostgreSQL reads, so pgconn cannot \
                     tell whether titles are current and signals nothing (the server refuses such a value \
                     at start and ignores it on a reload). Now: get in through a WAL sender slot \
                     (pgconn kill-idle --break-glass always -U <a role with REPLICATION>); then write \
                     it as on or off and reload (pg_ctl reload -D {pgdata})",
                    crate::text::clean(&format!("{:?}", f.value)),
                    f.source,
                )))
            }
        }
    }
    Ok(settings)
}

/// Without --user, --db, --client or --all: refused, with the (user, database) groups and how many
/// backends of each are in the selected states, so that the operator picks one.
pub(super) fn require_selection(s: &Selection, backends: &[Backend]) -> Result<()> {
    if s.all || !s.user.is_empty() || !s.db.is_empty() || !s.client.is_empty() {
        return Ok(());
    }
    let mut groups: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for b in backends.iter().filter(|b| selected(b, s)) {
        *groups.entry((&b.user, &b.database)).or_default() += 1;
    }
    let mut list: Vec<((&str, &str), usize)> = groups.into_iter().collect();
    list.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let listed = if list.is_empty() {
        "none is in that state now".to_string()
    } else {
        list.iter()
            .map(|((u, d), n)| {
                format!(
                    "--user {} --db {} ({n})",
                    crate::report::shell_quote(&crate::text::clean(u)),
                    crate::report::shell_quote(&crate::text::clean(d))
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(refuse(format!(
        "rescue needs a selection: titles carry no application_name, so pgconn cannot tell a pool's \
         healthy connections or an administrator's session from a leak, and does not take every {} \
         backend. Pick the leaking one with --user/--db/--client (backends in that state by user and \
         database: {listed}), or give --all to take every one",
        s.states.iter().map(State::as_pg).collect::<Vec<_>>().join(" or ")
    )))
}

/// The prefix of this cluster's titles: the running server's, as its checkpointer's title shows it; the
/// configuration's cluster_name when there is no checkpointer to read. A difference is worth a warning
/// (cluster_name changes with a restart only).
pub(super) fn title_prefix(
    children: &[Process],
    settings: &conf::Settings,
    warnings: &mut Vec<String>,
) -> (String, String) {
    let configured = settings.get("cluster_name").map(|f| f.value.clone());
    let observed = children
        .iter()
        .find_map(|c| title::prefix_from_checkpointer(&c.title));
    match (observed, configured) {
        (Some(p), configured) => {
            let name = p
                .strip_prefix(title::PROGRAM)
                .and_then(|n| n.strip_suffix(": "))
                .unwrap_or("")
                .to_string();
            if let Some(c) = configured.filter(|c| *c != name) {
                warnings.push(format!(
                    "cluster_name is \"{c}\" in the configuration, but the running server's titles say \
                     \"{name}\" (it takes effect at the next restart): the titles are read with the \
                     running server's"
                ));
            }
            (p, name)
        }
        (None, configured) => {
            let name = configured.unwrap_or_default();
            (title::prefix(&name), name)
        }
    }
}

/// Plan: find the cluster, read its settings and its children's titles, select, and open the audit log
/// (a log that cannot be opened stops the run here, before anything is done).
pub fn plan(req: &RescueRequest) -> Result<RescuePlan> {
    // Without pidfds pgconn would signal by pid alone: refused before anything is read.
    Pidfd::open(std::process::id() as i32).map_err(|e| {
        anyhow!(
            "cannot signal through a pidfd here ({e}); pgconn rescue needs Linux 5.3 or later and \
             sends nothing by pid alone"
        )
    })?;
    let pm = find(req)?;
    let settings = title_settings(&pm)?;
    let exe = postmaster_executable(&pm)?;
    let clock = Clock::read()?;
    let children = proc::children(pm.pid)?;
    let mut warnings = Vec::new();
    let (prefix, cluster_name) = title_prefix(&children, &settings, &mut warnings);
    let upt = settings.get("update_process_title");
    let mut backends = Vec::new();
    let mut others = Vec::new();
    let mut unreadable = Vec::new();
    for c in &children {
        match read_title(c, &prefix) {
            Title::Client(t) => match not_a_backend(c, &pm, exe) {
                None => backends.push(backend(c, t, &clock)),
                Some(why) => others.push(OtherProcess {
                    pid: c.pid,
                    kind: "not a backend".into(),
                    why: Some(why),
                }),
            },
            Title::Other(kind) => others.push(OtherProcess {
                pid: c.pid,
                kind,
                why: None,
            }),
            Title::Unreadable(reason) => unreadable.push(Unreadable {
                pid: c.pid,
                title: c.title.clone(),
                reason,
            }),
        }
    }
    // A title with no state at all means update_process_title was off for the whole server when that
    // backend started (a role's or database's setting stops titles at `startup` instead). It may have
    // been turned off since, by a reload, while others sat idle: their titles would say idle forever.
    let stateless: Vec<String> = backends
        .iter()
        .filter(|b| b.state.is_none())
        .map(|b| b.pid.to_string())
        .collect();
    if !stateless.is_empty() {
        return Err(refuse(format!(
            "{} of the {} client backends' titles show no state (pid {}): update_process_title has \
             been off on this server, so other titles may no longer be current, and pgconn signals \
             nothing. Get in through a WAL sender slot instead: pgconn kill-idle --break-glass always \
             -U <a role with REPLICATION>",
            stateless.len(),
            backends.len(),
            stateless.join(", ")
        )));
    }
    let s = &req.selection;
    require_selection(s, &backends)?;
    // Every backend's title shows a state now (a stateless one was refused above).
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for st in backends.iter().filter_map(|b| b.state.as_ref()) {
        *states.entry(st.key()).or_default() += 1;
    }
    // Whether each matching backend's title is current: only those are ever targets.
    let last_change = settings.last_change();
    let sockets = Sockets::read(pm.pid).ok();
    let mut untrusted = Vec::new();
    let trust = Trust {
        last_change,
        clock: &clock,
        sockets: sockets.as_ref(),
        trust_titles: s.trust_titles,
    };
    for b in backends.iter_mut().filter(|b| selected(b, s)) {
        match trust.evidence(b) {
            Ok(e) => b.evidence = Some(e),
            Err(reason) => untrusted.push(Unreadable {
                pid: b.pid,
                title: b.title.clone(),
                reason,
            }),
        }
    }
    let mut matched: Vec<Backend> = backends
        .iter()
        .filter(|b| selected(b, s) && b.evidence.is_some())
        .cloned()
        .collect();
    let matched_count = matched.len() + untrusted.len();
    // The longest connected first (they are the ones --max acts on).
    matched.sort_by_key(|b| (b.start_ticks, b.pid));
    let mut kept: HashMap<(String, String), Vec<Backend>> = HashMap::new();
    if let Some(keep) = s.keep {
        let mut per_group: HashMap<(String, String), usize> = HashMap::new();
        // The most recently connected of each group are kept: walk from the youngest.
        let mut rest = Vec::new();
        for b in matched.into_iter().rev() {
            let key = (b.database.clone(), b.user.clone());
            let n = per_group.entry(key.clone()).or_default();
            if *n < keep {
                *n += 1;
                kept.entry(key).or_default().push(b);
            } else {
                rest.push(b);
            }
        }
        rest.reverse();
        matched = rest;
    }
    let kept_count: usize = kept.values().map(Vec::len).sum();
    let capped = match s.max {
        Some(max) if matched.len() > max => {
            let n = matched.len() - max;
            matched.truncate(max);
            n
        }
        _ => 0,
    };
    let mut notes = vec![
        "process titles carry no application_name, no idle time and nothing about superusers, LISTEN \
         listeners, advisory locks or temporary tables: pgconn cannot leave those alone here the way \
         kill-idle does; narrow the selection with --user, --db or --client"
            .to_string(),
    ];
    if !unreadable.is_empty() {
        notes.push(format!(
            "{} process(es) whose titles pgconn cannot read one way only are left alone",
            unreadable.len()
        ));
    }
    let cluster = ClusterInfo {
        host: proc::hostname(),
        pgdata: pm.pgdata.clone(),
        postmaster_pid: pm.pid,
        port: pm.port,
        socket_dir: pm.socket_dir.clone(),
        cluster_name,
        update_process_title: upt.map(|f| f.value.clone()),
        update_process_title_source: upt.map(|f| f.source.clone()),
        configuration_changed_at: last_change.map(|r| format_timestamp(r.changed)),
        configuration_changed: last_change.map(|r| r.path.clone()),
    };
    let log = match &req.log {
        Some(p) => {
            let server = json!({
                "host": cluster.host,
                "pgdata": cluster.pgdata,
                "postmaster_pid": cluster.postmaster_pid,
                "port": cluster.port,
                "via": "os",
            });
            let log = AuditLog::open(p, server, false)?;
            if let Some(w) = log.warning() {
                warnings.push(w.to_string());
            }
            Some(log)
        }
        None => None,
    };
    let groups = groups(&matched);
    if !groups.is_empty() {
        notes.push(crate::report::rescue::clients_note(&groups));
    }
    let report = RescueReport {
        cluster,
        groups,
        action: Action::Terminate,
        dry_run: req.dry_run,
        selection: req.selection.clone(),
        processes: children.len(),
        states,
        client_backends: backends,
        other_processes: others,
        unreadable,
        untrusted,
        matched: matched_count,
        kept: kept_count,
        capped,
        run: BatchRun::planned(matched.len(), req.wait.as_secs_f64(), req.log.clone()),
        targets: matched,
        warnings,
        notes,
    };
    Ok(RescuePlan {
        report,
        postmaster: pm,
        executable: exe,
        clock,
        prefix,
        kept,
        log,
        yes: req.yes,
    })
}

/// The targets per (database, user), the largest group first.
pub(super) fn groups(targets: &[Backend]) -> Vec<Group> {
    let mut by: BTreeMap<(&str, &str), Group> = BTreeMap::new();
    for b in targets {
        let g = by
            .entry((b.database.as_str(), b.user.as_str()))
            .or_insert_with(|| Group {
                database: b.database.clone(),
                user: b.user.clone(),
                backends: 0,
                longest_connected_seconds: 0.0,
            });
        g.backends += 1;
        g.longest_connected_seconds = g.longest_connected_seconds.max(b.connected_seconds);
    }
    let mut out: Vec<Group> = by.into_values().collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.backends));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(user: &str, db: &str, client: &str, state: Option<&str>, age: f64) -> Backend {
        Backend {
            pid: 1,
            started_at: String::new(),
            connected_seconds: age,
            user: user.into(),
            database: db.into(),
            client: client.into(),
            client_port: None,
            state: state.map(State::parse),
            activity: String::new(),
            title: String::new(),
            start_ticks: 0,
            evidence: None,
        }
    }

    #[test]
    fn a_title_cut_short_or_not_utf8_or_of_unknown_room_is_unreadable() {
        let p = |title: &str, utf8: bool, truncated: Option<bool>| Process {
            pid: 7,
            ppid: 1,
            session: 7,
            start_ticks: 1,
            title: title.into(),
            title_utf8: utf8,
            title_truncated: truncated,
        };
        let prefix = title::prefix("");
        let idle = "postgres: app appdb [local] idle";
        assert!(matches!(
            read_title(&p(idle, true, Some(false)), &prefix),
            Title::Client(_)
        ));
        for (utf8, truncated, why) in [
            (false, Some(false), "UTF-8"),
            (true, Some(true), "cut short"),
            (true, None, "does not tell"),
        ] {
            match read_title(&p(idle, utf8, truncated), &prefix) {
                Title::Unreadable(r) => assert!(r.contains(why), "{r}"),
                t => panic!("{t:?}"),
            }
        }
        // Other processes are what they are, whatever the room.
        assert_eq!(
            read_title(&p("postgres: checkpointer ", true, None), &prefix),
            Title::Other("checkpointer".into())
        );
    }

    #[test]
    fn selection_reads_like_kill_idle() {
        let s = Selection {
            states: vec![State::Idle],
            user: vec!["app*".into()],
            exclude_db: vec!["postgres".into()],
            connected_longer_than_seconds: Some(60.0),
            ..Selection::default()
        };
        assert!(selected(
            &b("app", "appdb", "local", Some("idle"), 61.0),
            &s
        ));
        assert!(!selected(
            &b("app", "appdb", "local", Some("idle"), 59.0),
            &s
        ));
        assert!(!selected(
            &b("app", "appdb", "local", Some("active"), 61.0),
            &s
        ));
        assert!(!selected(&b("app", "appdb", "local", None, 61.0), &s));
        assert!(!selected(
            &b("app", "postgres", "local", Some("idle"), 61.0),
            &s
        ));
        assert!(!selected(
            &b("ops", "appdb", "local", Some("idle"), 61.0),
            &s
        ));
        let both = Selection {
            states: vec![State::Idle, State::IdleInTransaction],
            client: vec!["10.*".into()],
            ..Selection::default()
        };
        assert!(selected(
            &b("x", "y", "10.0.0.5", Some("idle in transaction"), 0.0),
            &both
        ));
        assert!(!selected(&b("x", "y", "local", Some("idle"), 0.0), &both));
    }
}
