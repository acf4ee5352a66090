//! `pgconn kill-idle` and `pgconn kill`: terminate (or cancel) sessions safely.
//!
//! The plan is read with the same snapshot query as `sessions`; it is shown, confirmed (or `--yes`), and
//! then acted on in set-wise batches by a statement that names each target by pid AND backend_start and
//! re-checks, in the same statement, every condition that selected it. What changed in between is skipped
//! and reported. With `--log`, one JSON line per session and a summary line are appended and synced before
//! the command reports success.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use serde::Serialize;

use crate::activity::{self, like_pattern, Filter, Session};
use crate::cli::{KillArgs, KillIdleArgs, KillSafety, StateArg};
use crate::conninfo::Identity;
use crate::db::{self, Db};
use crate::render::{self, round3, Style};
use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Terminate,
    Cancel,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Terminate => "Terminate",
            Action::Cancel => "Cancel the queries of",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Action::Terminate => "terminated",
            Action::Cancel => "cancelled",
        }
    }
}

/// A session the plan will act on.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    #[serde(flatten)]
    pub session: Session,
    /// Whether pgconn's role may signal it, as far as the catalogs tell (the server has the last word).
    pub allowed: bool,
}

/// What happened to one target.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub pid: i32,
    pub backend_start: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    /// State and age when previewed.
    pub state: Option<String>,
    pub state_seconds: Option<f64>,
    pub query: Option<String>,
    /// terminated | cancelled | skipped | denied | failed
    pub outcome: String,
    pub reason: Option<String>,
    /// State at the moment of action (when still present).
    pub state_now: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Protected {
    pub superuser: usize,
    pub protect_app: usize,
    pub protect_user: usize,
    pub not_visible: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub sessions: usize,
    pub oldest_state_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub targeted: usize,
    pub terminated: usize,
    pub cancelled: usize,
    pub skipped: usize,
    pub denied: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct KillReport {
    pub target: String,
    pub action: Action,
    pub dry_run: bool,
    /// Sessions that matched the selection (before protection, --keep and --max).
    pub matched: usize,
    pub protected: Protected,
    pub kept: usize,
    pub capped: usize,
    pub if_more_than: Option<usize>,
    /// False when --if-more-than was not exceeded (nothing is done).
    pub threshold_met: bool,
    pub targets: Vec<Target>,
    pub groups: Vec<GroupSummary>,
    /// True when the sessions were signalled (not a dry run, confirmed, threshold met).
    pub acted: bool,
    pub results: Vec<Outcome>,
    pub summary: Summary,
    pub before: Option<BTreeMap<String, i64>>,
    pub after: Option<BTreeMap<String, i64>>,
    pub log: Option<PathBuf>,
}

pub fn run_kill_idle(db: &mut Db, args: &KillIdleArgs, style: &Style) -> Result<ExitCode> {
    let states: Vec<StateArg> = if args.state.is_empty() {
        vec![StateArg::Idle]
    } else {
        args.state.iter().map(|s| StateArg::from(*s)).collect()
    };
    let mut filter = Filter::from_args(&args.filters).with_states(&states);
    filter.state_older_than = Some(args.older_than);
    execute(db, filter, &args.safety, Action::Terminate, style)
}

pub fn run_kill(db: &mut Db, args: &KillArgs, style: &Style) -> Result<ExitCode> {
    let f = &args.filters;
    let selects = !args.pid.is_empty()
        || !args.state.is_empty()
        || args.running_longer_than.is_some()
        || args.idle_longer_than.is_some()
        || !f.db.is_empty()
        || !f.user.is_empty()
        || !f.app.is_empty()
        || !f.client.is_empty();
    if !selects && !args.all {
        return Err(crate::refuse(
            "say which sessions: --pid, --state, --running-longer-than, --idle-longer-than, a filter \
             (--db, --user, --app, --client), or --all for every client session but pgconn's own",
        ));
    }
    let mut filter = Filter::from_args(f)
        .with_states(&args.state)
        .idle_longer_than(args.idle_longer_than);
    filter.pids = args.pid.clone();
    filter.running_longer_than = args.running_longer_than;
    let action = if args.cancel {
        Action::Cancel
    } else {
        Action::Terminate
    };
    execute(db, filter, &args.safety, action, style)
}

/// `*` / `?` wildcard match, the same rule the server applies to the LIKE patterns.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn any_match(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| glob_match(p, text))
}

/// An append-only audit log, opened before anything is done.
struct AuditLog {
    path: PathBuf,
    file: File,
    server: serde_json::Value,
}

impl AuditLog {
    fn open(path: &Path, identity: Identity, version: &str) -> Result<AuditLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| {
                format!(
                    "cannot open the audit log {}; nothing was done",
                    path.display()
                )
            })?;
        let mut server = serde_json::to_value(identity)?;
        server["version"] = serde_json::Value::String(version.to_string());
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            server,
        })
    }

    fn write(&mut self, lines: &[serde_json::Value]) -> Result<()> {
        let mut buf = String::new();
        for l in lines {
            buf.push_str(&serde_json::to_string(l)?);
            buf.push('\n');
        }
        self.file
            .write_all(buf.as_bytes())
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("could not write the audit log {}", self.path.display()))
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

static SIGNAL_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| activity::assemble(include_str!("../sql/signal.sql")));

static STATE_COUNTS_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| activity::assemble(include_str!("../sql/state_counts.sql")));

/// State counts of all client sessions but pgconn's own (and those just signalled).
fn state_counts(db: &mut Db, exclude: &[i32]) -> Result<BTreeMap<String, i64>> {
    let rows = db.query(&STATE_COUNTS_SQL, &[(&exclude, Type::INT4_ARRAY)])?;
    Ok(rows
        .iter()
        .map(|r| {
            let state: Option<String> = r.get(0);
            let key = state
                .as_deref()
                .map(activity::state_key)
                .unwrap_or_else(|| "not_visible".into());
            (key, r.get::<_, i64>(1))
        })
        .collect())
}

fn execute(
    db: &mut Db,
    filter: Filter,
    safety: &KillSafety,
    action: Action,
    style: &Style,
) -> Result<ExitCode> {
    let mut log = match &safety.log {
        Some(p) => Some(AuditLog::open(p, db.spec().identity(), &db.facts.version)?),
        None => None,
    };
    let sessions = activity::sessions(db, &filter, true)?;
    let matched = sessions.len();

    // Protection.
    let mut protected = Protected::default();
    let mut candidates = Vec::new();
    for s in sessions {
        if !s.visible || s.backend_start.is_none() {
            protected.not_visible += 1;
        } else if s.superuser && !safety.include_superusers {
            protected.superuser += 1;
        } else if any_match(&safety.protect_app, &s.application) {
            protected.protect_app += 1;
        } else if s
            .user
            .as_deref()
            .is_some_and(|u| any_match(&safety.protect_user, u))
        {
            protected.protect_user += 1;
        } else {
            candidates.push(s);
        }
    }

    // --keep: the N most recently active of each (database, user, application) stay.
    let mut kept = 0;
    if let Some(keep) = safety.keep.filter(|k| *k > 0) {
        let mut by_group: BTreeMap<(Option<String>, Option<String>, String), Vec<usize>> =
            BTreeMap::new();
        for (i, s) in candidates.iter().enumerate() {
            by_group
                .entry((s.database.clone(), s.user.clone(), s.application.clone()))
                .or_default()
                .push(i);
        }
        let mut keep_idx = std::collections::HashSet::new();
        for idx in by_group.values_mut() {
            idx.sort_by(|a, b| {
                candidates[*a]
                    .state_seconds
                    .unwrap_or(0.0)
                    .total_cmp(&candidates[*b].state_seconds.unwrap_or(0.0))
            });
            keep_idx.extend(idx.iter().take(keep).copied());
        }
        kept = keep_idx.len();
        candidates = candidates
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !keep_idx.contains(i))
            .map(|(_, s)| s)
            .collect();
    }

    let threshold_met = safety.if_more_than.is_none_or(|n| candidates.len() > n);
    let mut capped = 0;
    if let Some(max) = safety.max {
        if candidates.len() > max {
            capped = candidates.len() - max;
            candidates.truncate(max);
        }
    }
    let me_super = db.facts.is_superuser;
    let me_signal = db.facts.can_signal_backend;
    let targets: Vec<Target> = candidates
        .into_iter()
        .map(|s| {
            let allowed = me_super || (!s.superuser && (s.own_role || me_signal));
            Target {
                session: s,
                allowed,
            }
        })
        .collect();
    let groups = summarize(&targets);

    let mut report = KillReport {
        target: db.target_label(),
        action,
        dry_run: safety.dry_run,
        matched,
        protected,
        kept,
        capped,
        if_more_than: safety.if_more_than,
        threshold_met,
        targets,
        groups,
        acted: false,
        results: Vec::new(),
        summary: Summary::default(),
        before: None,
        after: None,
        log: safety.log.clone(),
    };
    report.summary.targeted = report.targets.len();

    let stop_early = !threshold_met || safety.dry_run || report.targets.is_empty();
    if !style.json {
        render::out(&render::kill::preview(&report, style))?;
    } else if !stop_early && !safety.yes && ui::interactive() {
        // stdout stays pure JSON, but a person is never asked without seeing the plan.
        eprint!("{}", render::kill::preview(&report, style));
    }
    if stop_early {
        if let Some(log) = log.as_mut() {
            log.write(&[summary_line(&report, &log.server)])?;
        }
        if style.json {
            render::json(&report)?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let n = report.targets.len();
    let question = format!(
        "{} {n} session{}?",
        action.verb(),
        if n == 1 { "" } else { "s" }
    );
    if !ui::confirm(&question, safety.yes)? {
        eprintln!("pgconn: cancelled; nothing was done");
        if style.json {
            render::json(&report)?;
        }
        return Ok(ExitCode::from(crate::EXIT_USAGE));
    }

    report.before = Some(state_counts(db, &[])?);
    let server = log.as_ref().map(|l| l.server.clone());
    let (results, outcome) = signal_targets_with(
        db,
        &filter,
        safety,
        action,
        &report.targets,
        &mut |batch| match (log.as_mut(), &server) {
            (Some(log), Some(server)) => {
                let lines: Vec<serde_json::Value> = batch
                    .iter()
                    .map(|o| session_line(o, action, server))
                    .collect();
                log.write(&lines)
            }
            _ => Ok(()),
        },
    );
    report.results = results;
    report.acted = true;
    for o in &report.results {
        match o.outcome.as_str() {
            "terminated" => report.summary.terminated += 1,
            "cancelled" => report.summary.cancelled += 1,
            "denied" => report.summary.denied += 1,
            "failed" => report.summary.failed += 1,
            _ => report.summary.skipped += 1,
        }
    }
    if let Err(e) = outcome {
        // Report and record what was done before the failure, then fail.
        if let Some(log) = log.as_mut() {
            let mut line = summary_line(&report, &log.server);
            line["error"] = serde_json::Value::String(format!("{e:#}"));
            let _ = log.write(&[line]);
        }
        if style.json {
            render::json(&report)?;
        } else if !report.results.is_empty() {
            render::out(&render::kill::results(&report, style))?;
        }
        return Err(e.context(format!(
            "stopped after {} of {} sessions ({} {})",
            report.results.len(),
            report.targets.len(),
            report.summary.terminated + report.summary.cancelled,
            action.done()
        )));
    }
    let signalled: Vec<i32> = report
        .results
        .iter()
        .filter(|o| o.outcome == "terminated")
        .map(|o| o.pid)
        .collect();
    report.after = Some(state_counts(db, &signalled)?);
    if let Some(log) = log.as_mut() {
        log.write(&[summary_line(&report, &log.server)])?;
    }
    if style.json {
        render::json(&report)?;
    } else {
        render::out(&render::kill::results(&report, style))?;
    }
    if report.summary.denied + report.summary.failed > 0 {
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

fn session_line(o: &Outcome, action: Action, server: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "time": o.at.clone().unwrap_or_else(now_rfc3339),
        "event": "session",
        "action": action,
        "server": server,
        "pid": o.pid,
        "backend_start": o.backend_start,
        "database": o.database,
        "user": o.user,
        "application": o.application,
        "client": o.client,
        "state": o.state,
        "state_seconds": o.state_seconds,
        "query": o.query,
        "outcome": o.outcome,
        "reason": o.reason,
    })
}

fn summary_line(r: &KillReport, server: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "time": now_rfc3339(),
        "event": "summary",
        "action": r.action,
        "server": server,
        "dry_run": r.dry_run,
        "matched": r.matched,
        "if_more_than": r.if_more_than,
        "threshold_met": r.threshold_met,
        "acted": r.acted,
        "targeted": r.summary.targeted,
        "terminated": r.summary.terminated,
        "cancelled": r.summary.cancelled,
        "skipped": r.summary.skipped,
        "denied": r.summary.denied,
        "failed": r.summary.failed,
    })
}

fn summarize(targets: &[Target]) -> Vec<GroupSummary> {
    let mut m: BTreeMap<(Option<String>, Option<String>, String), GroupSummary> = BTreeMap::new();
    for t in targets {
        let s = &t.session;
        let g = m
            .entry((s.database.clone(), s.user.clone(), s.application.clone()))
            .or_insert_with(|| GroupSummary {
                database: s.database.clone(),
                user: s.user.clone(),
                application: s.application.clone(),
                sessions: 0,
                oldest_state_seconds: None,
            });
        g.sessions += 1;
        g.oldest_state_seconds = match (g.oldest_state_seconds, s.state_seconds) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let mut v: Vec<GroupSummary> = m.into_values().collect();
    for g in &mut v {
        g.oldest_state_seconds = g.oldest_state_seconds.map(round3);
    }
    v.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then_with(|| a.application.cmp(&b.application))
    });
    v
}

/// One row of the signalling statement.
struct Signalled {
    pid: i32,
    state: Option<String>,
    state_seconds: Option<f64>,
    outcome: String,
    at: String,
}

fn signal_batch(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    batch: &[&Target],
    attempt_denied: bool,
) -> Result<Vec<Signalled>> {
    let fp = filter.params();
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> = fp.refs();
    let no_query = false;
    let pids: Vec<i32> = batch.iter().map(|t| t.session.pid).collect();
    let starts: Vec<String> = batch
        .iter()
        .map(|t| t.session.backend_start.clone().unwrap_or_default())
        .collect();
    let cancel = action == Action::Cancel;
    let protect_app: Vec<String> = safety.protect_app.iter().map(|p| like_pattern(p)).collect();
    let protect_user: Vec<String> = safety
        .protect_user
        .iter()
        .map(|p| like_pattern(p))
        .collect();
    params.push((&no_query, Type::BOOL));
    params.push((&pids, Type::INT4_ARRAY));
    params.push((&starts, Type::TEXT_ARRAY));
    params.push((&cancel, Type::BOOL));
    params.push((&safety.include_superusers, Type::BOOL));
    params.push((&protect_app, Type::TEXT_ARRAY));
    params.push((&protect_user, Type::TEXT_ARRAY));
    params.push((&attempt_denied, Type::BOOL));
    let rows = db.query(&SIGNAL_SQL, &params)?;
    Ok(rows
        .iter()
        .map(|r| Signalled {
            pid: r.get("pid"),
            state: r.get("state"),
            state_seconds: r.get("state_seconds"),
            outcome: r.get("outcome"),
            at: r.get("at"),
        })
        .collect())
}

fn is_denied(e: &anyhow::Error) -> bool {
    db::sqlstate(e) == Some(SqlState::INSUFFICIENT_PRIVILEGE)
}

/// Signal the targets in set-wise batches; each is named by pid and backend_start and re-checked against
/// `filter` and the protection rules in the same statement. Sessions the role may not signal are tried one
/// by one so that a denial (SQLSTATE 42501) is reported for exactly them.
pub fn signal_targets(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    targets: &[Target],
) -> Result<Vec<Outcome>> {
    let (outcomes, result) =
        signal_targets_with(db, filter, safety, action, targets, &mut |_| Ok(()));
    result.map(|()| outcomes)
}

/// [`signal_targets`], handing each batch's outcomes to `on_batch` as soon as they are known (the audit log
/// syncs them there). On an error the outcomes so far are returned with it: what was done is never lost.
pub fn signal_targets_with(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    targets: &[Target],
    on_batch: &mut dyn FnMut(&[Outcome]) -> Result<()>,
) -> (Vec<Outcome>, Result<()>) {
    let batch_size = safety.batch_size.max(1);
    let batches = targets.len().div_ceil(batch_size);
    let pb = if batches > 1 {
        ui::progress(targets.len() as u64, action.done())
    } else {
        indicatif::ProgressBar::hidden()
    };
    let by_pid: BTreeMap<i32, &Target> = targets.iter().map(|t| (t.session.pid, t)).collect();
    let mut all = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(batch_size) {
        let refs: Vec<&Target> = chunk.iter().collect();
        let mut rows: Vec<(Signalled, Option<String>)> = Vec::with_capacity(chunk.len());
        let mut retry_alone: Vec<&Target> = Vec::new();
        let mut batch_failed = false;
        match signal_batch(db, filter, safety, action, &refs, false) {
            Ok(result) => {
                for s in result {
                    if s.outcome == "predicted_denied" {
                        if let Some(t) = by_pid.get(&s.pid) {
                            retry_alone.push(t);
                        }
                    } else {
                        rows.push((s, None));
                    }
                }
            }
            // The catalogs said yes but the server said no: try each on its own to learn which.
            Err(e) if is_denied(&e) => {
                batch_failed = true;
                retry_alone.extend(refs.iter().copied());
            }
            Err(e) => {
                pb.finish_and_clear();
                return (all, Err(e));
            }
        }
        // Sessions the role may not signal: each on its own, so one denial (SQLSTATE 42501) aborts nothing
        // else; the server's answer is what is reported.
        for t in retry_alone {
            match signal_batch(db, filter, safety, action, &[t], true) {
                Ok(mut r) if !r.is_empty() => {
                    let mut row = r.remove(0);
                    if batch_failed && row.outcome == "gone" {
                        // The failed batch statement may have signalled it before it failed.
                        row.outcome = "gone_after_failed_batch".into();
                    }
                    rows.push((row, None));
                }
                Ok(_) => {}
                Err(e) if is_denied(&e) => rows.push((
                    Signalled {
                        pid: t.session.pid,
                        state: t.session.state.clone(),
                        state_seconds: None,
                        outcome: "denied".into(),
                        at: now_rfc3339(),
                    },
                    Some(format!("permission denied: {}", root_message(&e))),
                )),
                Err(e) => rows.push((
                    Signalled {
                        pid: t.session.pid,
                        state: None,
                        state_seconds: None,
                        outcome: "failed".into(),
                        at: now_rfc3339(),
                    },
                    Some(format!("{e:#}")),
                )),
            }
        }
        let outcomes: Vec<Outcome> = rows
            .into_iter()
            .filter_map(|(s, reason)| by_pid.get(&s.pid).map(|t| outcome_of(t, s, reason, action)))
            .collect();
        let logged = on_batch(&outcomes);
        all.extend(outcomes);
        if let Err(e) = logged {
            pb.finish_and_clear();
            return (all, Err(e));
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    (all, Ok(()))
}

fn outcome_of(t: &Target, s: Signalled, reason: Option<String>, action: Action) -> Outcome {
    let prev = &t.session;
    let (outcome, reason) = match s.outcome.as_str() {
        "signalled" => (action.done().to_string(), None),
        "denied" | "failed" => (s.outcome.clone(), reason),
        "gone" => ("skipped".into(), Some("gone: the session ended after the preview".into())),
        "gone_after_failed_batch" => (
            "skipped".into(),
            Some("gone: it ended while a batch statement failed (that statement may have signalled it)".into()),
        ),
        "replaced" => (
            "skipped".into(),
            Some("replaced: the pid now belongs to a different session (backend_start differs)".into()),
        ),
        "changed" => ("skipped".into(), Some(change_reason(prev, &s))),
        "protected" => ("skipped".into(), Some("protected: it now matches a protection rule".into())),
        "not_signalled" => ("skipped".into(), Some("not a backend any more: the signal was not sent".into())),
        other => ("failed".into(), Some(format!("unexpected outcome {other}"))),
    };
    Outcome {
        pid: prev.pid,
        backend_start: prev.backend_start.clone(),
        database: prev.database.clone(),
        user: prev.user.clone(),
        application: prev.application.clone(),
        client: prev.client.clone(),
        state: prev.state.clone(),
        state_seconds: prev.state_seconds.map(round3),
        query: prev.query.as_deref().map(|q| render::excerpt(q, 200)),
        outcome,
        reason,
        state_now: s.state,
        at: Some(s.at),
    }
}

fn root_message(e: &anyhow::Error) -> String {
    e.chain()
        .find_map(|c| c.downcast_ref::<postgres::Error>())
        .and_then(|pe| pe.as_db_error().map(|d| d.message().to_string()))
        .unwrap_or_else(|| format!("{e:#}"))
}

fn change_reason(prev: &Session, now: &Signalled) -> String {
    match (prev.state.as_deref(), now.state.as_deref()) {
        (_, Some("active")) if prev.state.as_deref() != Some("active") => {
            "became active after the preview".into()
        }
        (Some(a), Some(b)) if a != b => format!("changed state after the preview: {a} -> {b}"),
        (_, Some(b)) => format!(
            "no longer matches: {b} for only {} now (it was busy after the preview)",
            render::opt_age(now.state_seconds)
        ),
        _ => "no longer matches the selection".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("leaky-*", "leaky-worker"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*worker*", "leaky-worker-2"));
        assert!(!glob_match("pgbouncer", "pgbouncer2"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
    }
}
