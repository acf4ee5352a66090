//! Many servers at once: the target list (`-d` and `--service` repeated, `--targets FILE`) and a runner
//! that queries the targets concurrently, one connection each, with a per-target timeout. One failing
//! target never hides the others: every target ends with its own result.

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use postgres::error::SqlState;

use crate::conninfo::{self, ConnSpec};
use crate::db::{self, ConnOptions, ConnectFailure, Db};
use crate::report::fleet::{FailureKind, TargetResult};

/// Targets queried at once by default: a targets file of up to 64 lines goes in one wave. Each
/// connection is short (one statement, then closed) and the bound stays hard (attempts given up on count
/// until their socket is closed); at 32, 50 targets took two waves, each the wall time of one target
/// (BENCHMARKS.md, "Many targets and the exporter").
pub const DEFAULT_JOBS: usize = 64;
pub const DEFAULT_TARGET_TIMEOUT: Duration = Duration::from_secs(30);

/// One target of the command line: its label (`host:port/dbname`, never a password) and its resolved
/// connection, or why it could not be resolved.
pub struct FleetTarget {
    pub label: String,
    pub spec: Result<ConnSpec>,
    /// The name a targets-file line gave it (`NAME: CONNINFO`); it is then also its label.
    pub name: Option<String>,
    /// The service it was given by: `--service NAME`, or `service=NAME` in its own connection text (never
    /// PGSERVICE, which every target of the environment shares).
    pub service: Option<String>,
}

/// Whether the command line names several targets, or a targets file: output then takes the
/// several-targets shape (a TARGET column, a JSON array), whatever the number of targets.
pub fn is_many(conn: &ConnOptions) -> bool {
    conn.names_many()
}

/// One target line of a targets file: where it is (1-based), the name it gives (`NAME: CONNINFO`), and
/// the connection text (a conninfo, URI, `service=NAME` or database name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetLine {
    pub line: usize,
    pub name: Option<String>,
    pub text: String,
}

/// A line's name, if it starts with one: `NAME: REST`, NAME of `[A-Za-z0-9_.-]+` right at the start,
/// then a colon and a space. Nothing valid before names existed starts that way except a database name
/// that itself holds such a colon (`sales: eu`), which is now written `dbname='sales: eu'`: a conninfo
/// cannot (its first keyword would end in `:`), nor a URI (`postgres://` has no space after its colon),
/// nor `service=x` or `host=...` (`=` is not in NAME).
pub fn split_target_name(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(": ")?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    ok.then(|| (name, rest.trim()))
}

/// The target lines of a targets file, named or not: blank lines and lines starting with `#` are
/// skipped. Two lines of one name are refused, naming both.
pub fn parse_target_lines(text: &str) -> Result<Vec<TargetLine>> {
    let mut out: Vec<TargetLine> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let line = i + 1;
        let (name, text) = match split_target_name(l) {
            Some((n, rest)) => (Some(n.to_string()), rest.to_string()),
            None => (None, l.to_string()),
        };
        if let Some(n) = &name {
            if let Some(first) = out.iter().find(|t| t.name.as_ref() == Some(n)) {
                return Err(crate::exit::refuse(format!(
                    "the targets file names {n:?} twice, on lines {} and {line}: a target's name must be unique",
                    first.line
                )));
            }
        }
        out.push(TargetLine { line, name, text });
    }
    Ok(out)
}

fn target(conn: &ConnOptions, dbname: Option<&str>, service: Option<&str>) -> FleetTarget {
    let named = dbname
        .and_then(crate::conninfo::named_service)
        .or_else(|| service.map(str::to_string));
    match db::resolve_spec(conn, dbname, service) {
        Ok(spec) => FleetTarget {
            label: spec.target_label(),
            spec: Ok(spec),
            name: None,
            service: named,
        },
        Err(e) => FleetTarget {
            label: unresolved_label(dbname.or(service).unwrap_or("(default)")),
            spec: Err(e),
            name: None,
            service: named,
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
            let mut t = target(conn, Some(&line.text), None);
            if let Some(name) = line.name {
                t.label = name.clone();
                t.name = Some(name);
            }
            out.push(t);
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

fn read_targets_file(path: &Path) -> Result<Vec<TargetLine>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the targets file {}", path.display()))?;
    parse_target_lines(&text).with_context(|| format!("the targets file {}", path.display()))
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
    /// What resolving the target's connection options had to say (a password file others can read),
    /// whether or not it was reached.
    pub warnings: Vec<String>,
}

impl<T> TargetOutcome<T> {
    /// The outcome as report data: the error, redacted, classified and with its SQLSTATE.
    pub fn into_result(self) -> TargetResult<T> {
        match self.result {
            Ok(r) => TargetResult {
                target: self.target,
                warnings: self.warnings,
                ok: true,
                error: None,
                error_kind: None,
                sqlstate: None,
                error_line: None,
                report: Some(r),
            },
            Err(e) => TargetResult {
                target: self.target,
                warnings: self.warnings,
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

/// A bound on the connections the process holds open at once, shared by every run given it: each target
/// holds a slot from before it connects until its thread ends — even after the run gave up on it, since
/// its socket stays open until then — and connection attempts given up on inside a target
/// ([`crate::conninfo::abandoned_attempts`]) count against it too. A long-running caller (an exporter
/// answering overlapping scrapes) makes one and passes it to every [`run_with`]: however many runs
/// overlap, and however many of their attempts never end, the servers never see more than `max`
/// connections from this process. Cloning shares it.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    max: usize,
    held: Arc<Mutex<usize>>,
    /// The process's connection attempts given up on that still hold a socket.
    abandoned: fn() -> usize,
}

/// One slot of a [`ConnectionLimit`], given back when dropped (when the target's thread ends).
#[derive(Debug)]
pub struct Slot {
    held: Arc<Mutex<usize>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        *held = held.saturating_sub(1);
    }
}

impl ConnectionLimit {
    /// At most `max` connections (at least one).
    pub fn new(max: usize) -> ConnectionLimit {
        ConnectionLimit {
            max: max.max(1),
            held: Arc::new(Mutex::new(0)),
            abandoned: crate::conninfo::abandoned_attempts,
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections that may be open now: slots held, and attempts given up on that still hold a socket.
    pub fn in_use(&self) -> usize {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) + (self.abandoned)()
    }

    /// A slot, if one is free now.
    pub fn try_take(&self) -> Option<Slot> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if *held + (self.abandoned)() >= self.max {
            return None;
        }
        *held += 1;
        Some(Slot {
            held: Arc::clone(&self.held),
        })
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
    /// A point in time by which the run ends, as `overall` does (the earlier of the two counts).
    pub deadline: Option<Instant>,
    /// Whether a person may be asked for a password (on a terminal, as psql asks). A caller with nobody
    /// at a terminal (an exporter) forbids it with [`RunOptions::unattended`].
    pub attended: bool,
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
            deadline: None,
            attended: true,
            break_glass: conn.break_glass,
        }
    }

    /// Never ask for a password, whatever the terminal and -W say: every target connects as several
    /// targets do (on its own thread, bounded by the timeouts), a single one too.
    pub fn unattended(mut self) -> RunOptions {
        self.attended = false;
        self.prompt = false;
        self
    }

    /// End the run by `deadline`: what has not answered then, or not started, is reported as timed out.
    pub fn until(mut self, deadline: Instant) -> RunOptions {
        self.deadline = Some(deadline);
        self
    }
}

/// With -W and several targets, ask once (before any thread starts) and use the answer for all.
pub fn ask_password_once(targets: &mut [FleetTarget], opts: &mut RunOptions) -> Result<()> {
    if !opts.prompt || !opts.attended || (targets.len() < 2 && opts.overall.is_none()) {
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

/// Run `f` on every target, at most `jobs` connections at once, and return the outcomes in the targets'
/// order (see [`run_with`]; the bound is this run's own).
pub fn run<T, F>(targets: Vec<FleetTarget>, opts: RunOptions, f: F) -> Vec<TargetOutcome<T>>
where
    T: Send + 'static,
    F: Fn(&mut Db) -> Result<T> + Send + Sync + 'static,
{
    run_with(targets, opts, &ConnectionLimit::new(opts.jobs), f)
}

/// Run `f` on every target within `limit`, and return the outcomes in the targets' order.
///
/// A single target of an attended run without a deadline runs on the calling thread, exactly like a
/// one-server command (a password prompt is possible). Otherwise each target runs on its own thread,
/// never prompting, given `timeout` from its start; a target still running then is reported as timed
/// out and left behind, holding its slot of `limit` until it ends.
pub fn run_with<T, F>(
    mut targets: Vec<FleetTarget>,
    mut opts: RunOptions,
    limit: &ConnectionLimit,
    f: F,
) -> Vec<TargetOutcome<T>>
where
    T: Send + 'static,
    F: Fn(&mut Db) -> Result<T> + Send + Sync + 'static,
{
    let warnings: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            t.spec
                .as_ref()
                .map(|s| s.warnings().to_vec())
                .unwrap_or_default()
        })
        .collect();
    let inline = opts.attended && targets.len() == 1 && opts.overall.is_none();
    if inline && opts.deadline.is_none() {
        if let Some(_slot) = limit.try_take() {
            let t = targets.remove(0);
            let result = t
                .spec
                .and_then(|spec| Db::connect(spec, opts.prompt, opts.show_sql, opts.break_glass))
                .and_then(|mut db| f(&mut db));
            return vec![TargetOutcome {
                target: t.label,
                result,
                warnings: warnings.into_iter().next().unwrap_or_default(),
            }];
        }
    }
    if let Err(e) = ask_password_once(&mut targets, &mut opts) {
        let msg = format!("{e:#}");
        return targets
            .into_iter()
            .zip(warnings)
            .map(|(t, warnings)| TargetOutcome {
                target: t.label,
                result: Err(anyhow!("{msg}")),
                warnings,
            })
            .collect();
    }
    let (show_sql, mode) = (opts.show_sql, opts.break_glass);
    let items = targets.into_iter().map(|t| (t.label, t.spec)).collect();
    schedule(items, &opts, limit, move |spec| {
        Db::connect_unattended(spec, show_sql, mode).and_then(|mut db| f(&mut db))
    })
    .into_iter()
    .zip(warnings)
    .map(|((target, result), warnings)| TargetOutcome {
        target,
        result,
        warnings,
    })
    .collect()
}

/// The scheduling of [`run_with`], whatever the work: each item whose input resolved gets a slot of
/// `limit` and a thread running `work`, within the run's timeouts; the results come back in the items'
/// order, labelled.
fn schedule<S, T, W>(
    items: Vec<(String, Result<S>)>,
    opts: &RunOptions,
    limit: &ConnectionLimit,
    work: W,
) -> Vec<(String, Result<T>)>
where
    S: Send + 'static,
    T: Send + 'static,
    W: Fn(S) -> Result<T> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let n = items.len();
    let run_start = Instant::now();
    let overall_end = [opts.overall.map(|d| run_start + d), opts.deadline]
        .into_iter()
        .flatten()
        .min();
    // When a target must have answered: its own timeout from its start, and the run's bound.
    let due = |start: Instant| match overall_end {
        Some(end) => (start + opts.timeout).min(end),
        None => start + opts.timeout,
    };
    let labels: Vec<String> = items.iter().map(|(l, _)| l.clone()).collect();
    let mut results: Vec<Option<Result<T>>> = (0..n).map(|_| None).collect();
    let mut started: Vec<Option<Instant>> = vec![None; n];
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    let mut pending = items.into_iter().enumerate();
    // This run's threads that have not sent their result yet (given up on or not).
    let (mut running, mut done) = (0usize, 0usize);
    // Since when the next target has been waiting for a free slot (attempts given up on hold them all).
    let mut waiting_since: Option<Instant> = None;
    while done < n {
        let mut blocked = false;
        loop {
            if pending.len() == 0 || overall_end.is_some_and(|end| Instant::now() >= end) {
                break;
            }
            let Some(slot) = limit.try_take() else {
                // Every slot is taken. Attempts that never answer (a server that accepted and then says
                // nothing) may never give theirs back: after --target-timeout of waiting with nothing of
                // its own running, the targets not started fail rather than exceed the bound.
                blocked = true;
                let since = *waiting_since.get_or_insert_with(Instant::now);
                if running == 0 && since.elapsed() >= opts.timeout {
                    for (i, _) in pending.by_ref() {
                        results[i] = Some(Err(anyhow::Error::new(TargetTimeout(
                            opts.timeout,
                            "--target-timeout",
                        ))
                        .context(format!(
                            "{}: not started: all --jobs {} connections are held by attempts that got no answer",
                            labels[i],
                            limit.max()
                        ))));
                        done += 1;
                    }
                }
                break;
            };
            waiting_since = None;
            let Some((i, (_, input))) = pending.next() else {
                break;
            };
            let input = match input {
                Ok(input) => input,
                Err(e) => {
                    results[i] = Some(Err(e.context(InvalidTarget)));
                    done += 1;
                    continue;
                }
            };
            let (tx, work) = (tx.clone(), Arc::clone(&work));
            started[i] = Some(Instant::now());
            running += 1;
            let spawned = std::thread::Builder::new()
                .name(format!("target-{i}"))
                .spawn(move || {
                    // Held until the work is over (its connection closed), after the run gave up on it
                    // too; given back before the result is sent, so that whoever receives it finds the
                    // slot free (given back after, a waiting target could see every slot still taken
                    // by an attempt that has in fact ended).
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(input)))
                        .unwrap_or_else(|_| {
                            Err(anyhow!("internal error while querying this target"))
                        });
                    drop(slot);
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
            let (bound, flag) = match opts.overall {
                Some(o) if opts.deadline.is_none_or(|d| run_start + o <= d) => (o, "--timeout"),
                _ => (
                    overall_end.map_or(opts.timeout, |e| e.saturating_duration_since(run_start)),
                    "the caller's deadline",
                ),
            };
            for i in 0..n {
                if results[i].is_none() {
                    let what = if started[i].is_some() {
                        "gave up"
                    } else {
                        "not checked in time"
                    };
                    results[i] = Some(Err(anyhow::Error::new(TargetTimeout(bound, flag))
                        .context(format!("{}: {what}", labels[i]))));
                }
            }
            break;
        }
        // While every slot is held (by attempts given up on, or by other runs sharing the limit), look
        // again soon: they end by themselves.
        let recheck = blocked.then(|| now + Duration::from_millis(50));
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
                        let (limit, flag) = match (opts.overall, opts.deadline) {
                            (Some(o), _) if waited + Duration::from_millis(50) >= o => {
                                (o, "--timeout")
                            }
                            (_, Some(d)) if now >= d => (
                                d.saturating_duration_since(run_start),
                                "the caller's deadline",
                            ),
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
        .map(|(target, r)| (target, r.unwrap_or_else(|| Err(anyhow!("no result")))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};

    fn opts(jobs: usize, timeout_ms: u64) -> RunOptions {
        RunOptions {
            jobs,
            timeout: Duration::from_millis(timeout_ms),
            show_sql: false,
            prompt: false,
            overall: None,
            deadline: None,
            attended: true,
            break_glass: db::BreakGlass::Never,
        }
    }

    /// A limit that counts its own slots only: the process-wide count of abandoned connection attempts
    /// is shared with the connection tests of this binary.
    fn limit(max: usize) -> ConnectionLimit {
        ConnectionLimit {
            abandoned: || 0,
            ..ConnectionLimit::new(max)
        }
    }

    #[test]
    fn abandoned_connection_attempts_take_slots() {
        static ABANDONED: AtomicUsize = AtomicUsize::new(0);
        let l = ConnectionLimit {
            abandoned: || ABANDONED.load(Ordering::SeqCst),
            ..ConnectionLimit::new(2)
        };
        let first = l.try_take().unwrap();
        ABANDONED.store(1, Ordering::SeqCst);
        assert!(l.try_take().is_none());
        assert_eq!(l.in_use(), 2);
        ABANDONED.store(0, Ordering::SeqCst);
        drop(first);
        assert_eq!(l.in_use(), 0);
    }

    fn items(n: usize) -> Vec<(String, Result<usize>)> {
        (0..n).map(|i| (format!("t{i}"), Ok(i))).collect()
    }

    /// Counts the work running at once, and the most ever seen.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Gauge {
        fn hold(&self, d: Duration) {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(d);
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn timed_out<T>(r: &Result<T>) -> String {
        match r {
            Err(e) => {
                assert_eq!(classify(e), FailureKind::Timeout, "{e:#}");
                format!("{e:#}")
            }
            Ok(_) => panic!("expected a timeout"),
        }
    }

    #[test]
    fn at_most_jobs_run_at_once_and_results_keep_the_targets_order() {
        let gauge = Arc::new(Gauge::default());
        let g = Arc::clone(&gauge);
        let mut all = items(9);
        all.insert(4, ("bad".into(), Err(anyhow!("unparsable"))));
        let out = schedule(all, &opts(3, 5000), &limit(3), move |i| {
            g.hold(Duration::from_millis(40));
            Ok(i * 10)
        });
        assert_eq!(gauge.most.load(Ordering::SeqCst), 3);
        let labels: Vec<&str> = out.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["t0", "t1", "t2", "t3", "bad", "t4", "t5", "t6", "t7", "t8"]
        );
        assert_eq!(
            classify(out[4].1.as_ref().unwrap_err()),
            FailureKind::Invalid
        );
        let values: Vec<usize> = out
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .copied()
            .collect();
        assert_eq!(values, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
    }

    #[test]
    fn runs_that_share_a_limit_stay_within_it_together() {
        let limit = limit(2);
        let gauge = Arc::new(Gauge::default());
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let (limit, g) = (limit.clone(), Arc::clone(&gauge));
                std::thread::spawn(move || {
                    schedule(items(4), &opts(32, 5000), &limit, move |i| {
                        g.hold(Duration::from_millis(30));
                        Ok(i)
                    })
                })
            })
            .collect();
        for r in runs {
            assert!(r.join().unwrap().iter().all(|(_, r)| r.is_ok()));
        }
        assert_eq!(gauge.most.load(Ordering::SeqCst), 2);
        // A slot is given back when its thread ends, which may be just after its result arrived.
        let until = Instant::now() + Duration::from_secs(5);
        while limit.in_use() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(limit.in_use(), 0, "every slot given back");
    }

    #[test]
    fn a_target_given_up_on_keeps_its_slot_until_it_ends() {
        let ended = Arc::new(Mutex::new(None::<Instant>));
        let next_started = Arc::new(Mutex::new(None::<Instant>));
        let (e, n) = (Arc::clone(&ended), Arc::clone(&next_started));
        let out = schedule(items(2), &opts(1, 100), &limit(1), move |i| {
            if i == 0 {
                std::thread::sleep(Duration::from_millis(400));
                *e.lock().unwrap() = Some(Instant::now());
            } else {
                *n.lock().unwrap() = Some(Instant::now());
            }
            Ok(i)
        });
        assert!(timed_out(&out[0].1).contains("t0: gave up"));
        assert_eq!(
            out[1].1.as_ref().ok(),
            Some(&1),
            "{:?}",
            out[1].1.as_ref().err()
        );
        let (ended, next) = (
            ended.lock().unwrap().unwrap(),
            next_started.lock().unwrap().unwrap(),
        );
        assert!(
            next >= ended,
            "the second target started before the first let go of its slot"
        );
    }

    #[test]
    fn slots_that_never_come_back_fail_the_rest_instead_of_exceeding_the_bound() {
        let limit = limit(1);
        let _held_elsewhere = limit.try_take().unwrap();
        assert!(limit.try_take().is_none());
        let called = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&called);
        let start = Instant::now();
        let out = schedule(items(2), &opts(1, 150), &limit, move |i| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(i)
        });
        assert!(start.elapsed() >= Duration::from_millis(150));
        for (_, r) in &out {
            assert!(timed_out(r).contains("not started"));
        }
        assert_eq!(called.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_callers_deadline_ends_the_run() {
        let start = Instant::now();
        let o = opts(1, 5000)
            .unattended()
            .until(start + Duration::from_millis(150));
        assert!(!o.attended && !o.prompt);
        let out = schedule(items(2), &o, &limit(1), |i| {
            std::thread::sleep(Duration::from_millis(600));
            Ok(i)
        });
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
        let first = timed_out(&out[0].1);
        assert!(
            first.contains("t0: gave up") && first.contains("the caller's deadline"),
            "{first}"
        );
        assert!(timed_out(&out[1].1).contains("t1: not checked in time"));
    }

    #[test]
    fn targets_files_skip_comments_and_blank_lines() {
        let text = "# production\n\nhost=db1 dbname=app\n  postgres://u@db2/app  \n#host=old\nservice=reporting\n";
        let texts: Vec<String> = parse_target_lines(text)
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(
            texts,
            vec![
                "host=db1 dbname=app",
                "postgres://u@db2/app",
                "service=reporting"
            ]
        );
    }

    #[test]
    fn named_target_lines_and_the_lines_they_cannot_be() {
        let text = "# named\nprod-1: host=db1 dbname=app\n\nreplica.eu_2: postgresql://u@db2/app\n\
                    host=db3 dbname=app\npostgresql://u@db4:5432/app\nservice=reporting\n\
                    appdb\ndbname='sales: eu'\nsales: eu\nhost:5432\nno:space\n: x\nbad name: x\n";
        let lines = parse_target_lines(text).unwrap();
        let got: Vec<(usize, Option<&str>, &str)> = lines
            .iter()
            .map(|l| (l.line, l.name.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, Some("prod-1"), "host=db1 dbname=app"),
                (4, Some("replica.eu_2"), "postgresql://u@db2/app"),
                (5, None, "host=db3 dbname=app"),
                (6, None, "postgresql://u@db4:5432/app"),
                (7, None, "service=reporting"),
                (8, None, "appdb"),
                (9, None, "dbname='sales: eu'"),
                // A database name with such a colon is a name now (README: write dbname='...').
                (10, Some("sales"), "eu"),
                (11, None, "host:5432"),
                (12, None, "no:space"),
                (13, None, ": x"),
                (14, None, "bad name: x"),
            ]
        );
        // What was valid before names existed keeps its meaning: conninfos, URIs and services.
        for today in [
            "host=db1 port=5432",
            "service=x",
            "postgres://u@h/db",
            "postgresql://h:5432/db?sslmode=require",
            "user=a dbname=b",
            "db1:5432/app",
        ] {
            assert_eq!(split_target_name(today), None, "{today}");
        }
    }

    #[test]
    fn a_name_given_twice_is_refused_with_both_lines() {
        let e = parse_target_lines("a: host=x\n# c\nb: host=y\na: host=z\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("\"a\" twice, on lines 1 and 4"), "{msg}");
        assert_eq!(crate::exit::exit_of(&e), crate::exit::Exit::Usage);
        // A name and nothing after it is a database name ending in a colon, as before.
        assert_eq!(parse_target_lines("a: \n").unwrap()[0].name, None);
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
