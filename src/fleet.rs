//! Many servers at once: the target list (`-d` and `--service` repeated, `--targets FILE`) and a runner
//! that queries the targets concurrently, one connection each, with a per-target timeout. One failing
//! target never hides the others: every target ends with its own result.

use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use postgres::error::SqlState;

use crate::conninfo::{self, ConnSpec};
use crate::db::{self, ConnOptions, ConnectFailure, Db};
use crate::report::fleet::{FailureKind, TargetResult};

pub const DEFAULT_JOBS: usize = 32;
pub const DEFAULT_TARGET_TIMEOUT: Duration = Duration::from_secs(30);

/// One target of the command line: its label (`host:port/dbname`, never a password) and its resolved
/// connection, or why it could not be resolved.
pub struct FleetTarget {
    pub label: String,
    pub spec: Result<ConnSpec>,
}

/// Whether the command line names several targets, or a targets file: output then takes the
/// several-targets shape (a TARGET column, a JSON array), whatever the number of targets.
pub fn is_many(conn: &ConnOptions) -> bool {
    conn.names_many()
}

/// The lines of a targets file that name a target: blank lines and lines starting with `#` are skipped.
pub fn parse_targets_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn target(conn: &ConnOptions, dbname: Option<&str>, service: Option<&str>) -> FleetTarget {
    match db::resolve_spec(conn, dbname, service) {
        Ok(spec) => FleetTarget {
            label: spec.target_label(),
            spec: Ok(spec),
        },
        Err(e) => FleetTarget {
            label: unresolved_label(dbname.or(service).unwrap_or("(default)")),
            spec: Err(e),
        },
    }
}

/// A label for a target whose options could not even be parsed: its text only when it cannot hold a
/// secret (a plain database or service name); redaction cannot be trusted on text that does not parse.
fn unresolved_label(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        text.to_string()
    } else {
        "(unparsable connection string)".to_string()
    }
}

/// Every target of the command line, in the order given: each `-d`, each `--service`, then each line of
/// `--targets`. One `-d` with one `--service` (or neither) is a single target, as with psql.
pub fn targets(conn: &ConnOptions) -> Result<Vec<FleetTarget>> {
    if !is_many(conn) {
        return Ok(vec![target(
            conn,
            conn.dbname.first().map(String::as_str),
            conn.service.first().map(String::as_str),
        )]);
    }
    let mut out = Vec::new();
    for d in &conn.dbname {
        out.push(target(conn, Some(d), None));
    }
    for s in &conn.service {
        out.push(target(conn, None, Some(s)));
    }
    if let Some(path) = &conn.targets {
        for line in read_targets_file(path)? {
            out.push(target(conn, Some(&line), None));
        }
    }
    if out.is_empty() {
        return Err(crate::exit::refuse(format!(
            "the targets file {} names no target",
            conn.targets.as_deref().unwrap_or(Path::new("-")).display()
        )));
    }
    Ok(out)
}

fn read_targets_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the targets file {}", path.display()))?;
    Ok(parse_targets_file(&text))
}

/// Marker in the error chain of a target that did not answer in time: how long, and the option that set it.
#[derive(Debug)]
pub struct TargetTimeout(pub Duration, pub &'static str);

impl std::fmt::Display for TargetTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no result within {} ({})",
            crate::report::typed_duration(self.0),
            self.1
        )
    }
}

impl std::error::Error for TargetTimeout {}

/// Marker in the error chain of a target whose options could not be resolved.
#[derive(Debug)]
struct InvalidTarget;

impl std::fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid target")
    }
}

impl std::error::Error for InvalidTarget {}

/// Classify a target's error by its markers and SQLSTATE (never by message text).
pub fn classify(e: &anyhow::Error) -> FailureKind {
    if e.downcast_ref::<TargetTimeout>().is_some() {
        return FailureKind::Timeout;
    }
    if e.downcast_ref::<InvalidTarget>().is_some() {
        return FailureKind::Invalid;
    }
    if let Some(cf) = e.chain().find_map(|c| c.downcast_ref::<ConnectFailure>()) {
        return match &cf.code {
            Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS => {
                cf.refusal.as_ref().map_or(FailureKind::Full, |r| r.kind())
            }
            Some(c) if *c == SqlState::CANNOT_CONNECT_NOW || *c == SqlState::ADMIN_SHUTDOWN => {
                FailureKind::Unreachable
            }
            Some(_) => FailureKind::Refused,
            None if cf.network => FailureKind::Unreachable,
            None => FailureKind::Refused,
        };
    }
    FailureKind::Query
}

/// The SQLSTATE of a target's error, if the server sent one.
pub fn error_sqlstate(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .find_map(|c| c.downcast_ref::<ConnectFailure>())
        .and_then(|cf| cf.code.as_ref().map(|c| c.code().to_string()))
        .or_else(|| db::sqlstate(e).map(|c| c.code().to_string()))
}

/// The error as one line (the first line of each message in the chain).
pub fn one_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    text.lines().next().unwrap_or("").trim().to_string()
}

/// What happened at one target.
pub struct TargetOutcome<T> {
    pub target: String,
    pub result: Result<T>,
}

impl<T> TargetOutcome<T> {
    /// The outcome as report data: the error, redacted, classified and with its SQLSTATE.
    pub fn into_result(self) -> TargetResult<T> {
        match self.result {
            Ok(r) => TargetResult {
                target: self.target,
                ok: true,
                error: None,
                error_kind: None,
                sqlstate: None,
                error_line: None,
                report: Some(r),
            },
            Err(e) => TargetResult {
                target: self.target,
                ok: false,
                error: Some(conninfo::redact(&format!("{e:#}"))),
                error_kind: Some(classify(&e)),
                sqlstate: error_sqlstate(&e),
                error_line: Some(one_line(&e)),
                report: None,
            },
        }
    }
}

/// How the runner connects.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub jobs: usize,
    pub timeout: Duration,
    pub show_sql: bool,
    /// -W: ask once for a password, used for every target.
    pub prompt: bool,
    /// A bound on the whole run, from its start (check's --timeout): a target still running then, or not
    /// started yet, is reported as timed out. A single target is bounded too (it runs on a thread).
    pub overall: Option<Duration>,
    /// Whether to use the emergency route (never, unless told).
    pub break_glass: db::BreakGlass,
}

impl RunOptions {
    pub fn from_conn(conn: &ConnOptions) -> RunOptions {
        RunOptions {
            jobs: conn.jobs.unwrap_or(DEFAULT_JOBS).max(1),
            timeout: conn.target_timeout.unwrap_or(DEFAULT_TARGET_TIMEOUT),
            show_sql: conn.show_sql,
            prompt: conn.password_prompt,
            overall: None,
            break_glass: conn.break_glass,
        }
    }
}

/// With -W and several targets, ask once (before any thread starts) and use the answer for all.
pub fn ask_password_once(targets: &mut [FleetTarget], opts: &mut RunOptions) -> Result<()> {
    if !opts.prompt || (targets.len() < 2 && opts.overall.is_none()) {
        return Ok(());
    }
    let Some(first) = targets.iter().find_map(|t| t.spec.as_ref().ok()) else {
        return Ok(());
    };
    let pw = db::prompt_password(first)?;
    for t in targets.iter_mut() {
        if let Ok(spec) = &mut t.spec {
            spec.set_password(pw.clone());
        }
    }
    opts.prompt = false;
    Ok(())
}

/// Run `f` on every target, at most `jobs` at once, and return the outcomes in the targets' order.
///
/// A single target runs on the calling thread, exactly like a one-server command (a password prompt is
/// possible). Several targets run on their own threads, never prompting, each given `timeout` from its
/// start; a target still running then is reported as timed out and left behind.
pub fn run<T, F>(mut targets: Vec<FleetTarget>, mut opts: RunOptions, f: F) -> Vec<TargetOutcome<T>>
where
    T: Send + 'static,
    F: Fn(&mut Db) -> Result<T> + Send + Sync + 'static,
{
    if targets.len() == 1 && opts.overall.is_none() {
        let t = targets.remove(0);
        let result = t
            .spec
            .and_then(|spec| Db::connect(spec, opts.prompt, opts.show_sql, opts.break_glass))
            .and_then(|mut db| f(&mut db));
        return vec![TargetOutcome {
            target: t.label,
            result,
        }];
    }
    if let Err(e) = ask_password_once(&mut targets, &mut opts) {
        let msg = format!("{e:#}");
        return targets
            .into_iter()
            .map(|t| TargetOutcome {
                target: t.label,
                result: Err(anyhow!("{msg}")),
            })
            .collect();
    }

    let f = Arc::new(f);
    let n = targets.len();
    let run_start = Instant::now();
    let overall_end = opts.overall.map(|d| run_start + d);
    // When a target must have answered: its own timeout from its start, and the run's bound.
    let due = |start: Instant| match overall_end {
        Some(end) => (start + opts.timeout).min(end),
        None => start + opts.timeout,
    };
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let mut results: Vec<Option<Result<T>>> = (0..n).map(|_| None).collect();
    let mut started: Vec<Option<Instant>> = vec![None; n];
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    let mut pending = targets.into_iter().enumerate();
    // `running` counts every thread that may hold a connection, including attempts given up on: their
    // sockets stay open until the attempt ends by itself (connect or statement timeout), so --jobs stays a
    // real bound on simultaneous connections.
    let (mut running, mut done) = (0usize, 0usize);
    // Since when the next target has been waiting for a free slot (attempts given up on hold them all).
    let mut waiting_since: Option<Instant> = None;
    while done < n {
        loop {
            if pending.len() == 0 || overall_end.is_some_and(|end| Instant::now() >= end) {
                break;
            }
            if running + crate::conninfo::abandoned_attempts() >= opts.jobs {
                // Every slot is taken. Attempts that never answer (a server that accepted and then says
                // nothing) may never give theirs back: after --target-timeout of waiting, the targets
                // not started fail rather than exceed --jobs.
                let since = *waiting_since.get_or_insert_with(Instant::now);
                if running == 0 && since.elapsed() >= opts.timeout {
                    for (i, _) in pending.by_ref() {
                        results[i] = Some(Err(anyhow::Error::new(TargetTimeout(
                            opts.timeout,
                            "--target-timeout",
                        ))
                        .context(format!(
                            "{}: not started: all --jobs {} connections are held by attempts that got no answer",
                            labels[i], opts.jobs
                        ))));
                        done += 1;
                    }
                }
                break;
            }
            waiting_since = None;
            let Some((i, t)) = pending.next() else { break };
            let spec = match t.spec {
                Ok(spec) => spec,
                Err(e) => {
                    results[i] = Some(Err(e.context(InvalidTarget)));
                    done += 1;
                    continue;
                }
            };
            let (tx, f, show_sql, mode) =
                (tx.clone(), Arc::clone(&f), opts.show_sql, opts.break_glass);
            started[i] = Some(Instant::now());
            running += 1;
            let spawned = std::thread::Builder::new()
                .name(format!("target-{i}"))
                .spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        Db::connect_unattended(spec, show_sql, mode).and_then(|mut db| f(&mut db))
                    }))
                    .unwrap_or_else(|_| Err(anyhow!("internal error while querying this target")));
                    let _ = tx.send((i, r));
                });
            if let Err(e) = spawned {
                results[i] = Some(Err(anyhow!("could not start a thread: {e}")));
                running -= 1;
                done += 1;
            }
        }
        if done == n {
            break;
        }
        let now = Instant::now();
        if overall_end.is_some_and(|end| now >= end) {
            // The run's bound is reached: whatever has not answered, or not started, times out.
            let bound = opts.overall.unwrap_or(opts.timeout);
            for i in 0..n {
                if results[i].is_none() {
                    let what = if started[i].is_some() {
                        "gave up"
                    } else {
                        "not checked in time"
                    };
                    results[i] = Some(Err(anyhow::Error::new(TargetTimeout(bound, "--timeout"))
                        .context(format!("{}: {what}", labels[i]))));
                }
            }
            break;
        }
        // While connection attempts given up on hold slots, look again soon: they end by themselves.
        let recheck = (crate::conninfo::abandoned_attempts() > 0 && pending.len() > 0)
            .then(|| now + Duration::from_millis(50));
        let deadline = (0..n)
            .filter(|&i| results[i].is_none())
            .filter_map(|i| started[i].map(due))
            .chain(overall_end)
            .chain(recheck)
            .min()
            .unwrap_or(now + opts.timeout);
        match rx.recv_timeout(deadline.saturating_duration_since(now)) {
            Ok((i, r)) => {
                running -= 1;
                // A late answer of an attempt given up on only frees its slot.
                if results[i].is_none() {
                    results[i] = Some(r);
                    done += 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                for i in 0..n {
                    if results[i].is_none() && started[i].is_some_and(|s| now >= due(s)) {
                        let waited = now.saturating_duration_since(started[i].unwrap_or(now));
                        let (limit, flag) = match opts.overall {
                            Some(o) if waited + Duration::from_millis(50) >= o => (o, "--timeout"),
                            _ => (opts.timeout, "--target-timeout"),
                        };
                        results[i] = Some(Err(anyhow::Error::new(TargetTimeout(limit, flag))
                            .context(format!("{}: gave up", labels[i]))));
                        done += 1;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    labels
        .into_iter()
        .zip(results)
        .map(|(target, r)| TargetOutcome {
            target,
            result: r.unwrap_or_else(|| Err(anyhow!("no result"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_files_skip_comments_and_blank_lines() {
        let text = "# production\n\nhost=db1 dbname=app\n  postgres://u@db2/app  \n#host=old\nservice=reporting\n";
        assert_eq!(
            parse_targets_file(text),
            vec![
                "host=db1 dbname=app",
                "postgres://u@db2/app",
                "service=reporting"
            ]
        );
    }

    #[test]
    fn failures_are_classified_by_marker_and_sqlstate() {
        let full = anyhow::Error::new(ConnectFailure {
            network: false,
            code: Some(SqlState::TOO_MANY_CONNECTIONS),
            refusal: None,
            message: "out of slots".into(),
        });
        assert_eq!(classify(&full), FailureKind::Full);
        assert_eq!(error_sqlstate(&full).as_deref(), Some("53300"));
        // Each 53300 by its cause.
        let limit = anyhow::Error::new(ConnectFailure {
            network: false,
            code: Some(SqlState::TOO_MANY_CONNECTIONS),
            refusal: Some(db::refusal::Refusal::RoleLimit { role: "app".into() }),
            message: "role at its limit".into(),
        });
        assert_eq!(classify(&limit), FailureKind::RoleLimit);
        let down = anyhow::Error::new(ConnectFailure {
            network: true,
            code: None,
            refusal: None,
            message: "refused".into(),
        });
        assert_eq!(classify(&down), FailureKind::Unreachable);
        let auth = anyhow::Error::new(ConnectFailure {
            network: false,
            code: Some(SqlState::INVALID_PASSWORD),
            refusal: None,
            message: "auth".into(),
        });
        assert_eq!(classify(&auth), FailureKind::Refused);
        let slow = anyhow::Error::new(TargetTimeout(Duration::from_secs(3), "--target-timeout"))
            .context("x: gave up");
        assert_eq!(classify(&slow), FailureKind::Timeout);
        assert_eq!(classify(&anyhow!("syntax error")), FailureKind::Query);
    }
}
