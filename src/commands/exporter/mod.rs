//! `pgconn exporter`'s model: which configured target a `/probe?target=` names (a pure function over
//! strings: nothing is resolved or connected to for a name that is not configured), and the collector
//! that answers scrapes without ever adding to the exhaustion it watches:
//!
//! - one short connection per target and scrape, closed after it; never a pool;
//! - at most one attempt per target outstanding, attempts given up on included: a request for a target
//!   whose attempt is in flight waits for it and shares its result, and while an attempt given up on is
//!   still open (a server that accepted and never answers) the target is answered as timed out without
//!   another connection;
//! - one bound on every collection of the process (`--jobs`, a [`fleet::ConnectionLimit`] shared by every
//!   request, attempts given up on included);
//! - a deadline per scrape that bounds connecting and querying, and sets the scrape's own
//!   `statement_timeout` and `lock_timeout` from what is left of it;
//! - never a password prompt, never the WAL sender route.
//!
//! The HTTP side (`run::exporter`) turns requests into calls of [`Collector`] and renders the results.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::commands::status::{self, StatusRequest};
use crate::conninfo::{self, ConnSpec};
use crate::db::{self, ConnOptions, Db};
use crate::fleet::{self, ConnectionLimit, FleetTarget, RunOptions, TargetTimeout};
use crate::report::fleet::{FailureKind, TargetResult};
use crate::report::status::StatusReport;

pub mod web_config;

/// The exporter's port when `--listen` gives none. Not 9187 (postgres_exporter's), so that both can run
/// on one host; outside 9100–9999, the range Prometheus' default-port allocation page hands out, which
/// has been reported fully allocated since 2023.
pub const DEFAULT_PORT: u16 = 8432;

/// What is taken off Prometheus' scrape timeout so that the answer arrives before Prometheus gives up.
pub const DEFAULT_TIMEOUT_OFFSET: Duration = Duration::from_millis(500);

/// How much the exporter says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
}

impl LogLevel {
    pub fn key(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warning",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// What `pgconn exporter` is asked.
#[derive(Debug, Clone)]
pub struct ExporterRequest {
    /// Where to listen (each one bound at start; one that cannot be bound is an error).
    pub listen: Vec<SocketAddr>,
    /// The deadline of a scrape without Prometheus' timeout header, and the longest one with it.
    pub target_timeout: Duration,
    /// Taken off the `X-Prometheus-Scrape-Timeout-Seconds` header.
    pub timeout_offset: Duration,
    /// At most this many collections at once, for the whole process.
    pub jobs: usize,
    /// What each scrape collects: status's statement, its grouping (a `client` label with
    /// `--metrics-by client`) and thresholds.
    pub status: StatusRequest,
    /// exporter-toolkit's web configuration file (TLS, basic auth, headers).
    pub web_config: Option<PathBuf>,
    pub log_level: LogLevel,
}

impl Default for ExporterRequest {
    fn default() -> Self {
        ExporterRequest {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))],
            target_timeout: fleet::DEFAULT_TARGET_TIMEOUT,
            timeout_offset: DEFAULT_TIMEOUT_OFFSET,
            jobs: fleet::DEFAULT_JOBS,
            // Prometheus text: the statement counts as postgres_exporter does too.
            status: StatusRequest {
                format: Some(status::StatusFormat::Prometheus),
                // No statement label in the exporter (cardinality), and no extra statement per scrape.
                leak_statements: false,
                ..StatusRequest::default()
            },
            web_config: None,
            log_level: LogLevel::default(),
        }
    }
}

impl ExporterRequest {
    /// The deadline of a scrape that started at `now`: Prometheus' scrape timeout (the header's value in
    /// seconds) less the offset, at most `--target-timeout`; without a usable header, `--target-timeout`.
    /// A header no larger than the offset is used whole (the offset would leave nothing).
    pub fn deadline(&self, now: Instant, header: Option<&str>) -> Instant {
        let scrape = header
            .and_then(|h| h.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
        let budget = match scrape {
            Some(s) if s > self.timeout_offset => s - self.timeout_offset,
            Some(s) => s,
            None => self.target_timeout,
        };
        now + budget.min(self.target_timeout)
    }
}

/// What a `/probe?target=` may match on one configured target: its name (`NAME: ` in the targets file),
/// the service it was given by (`--service NAME` or `service=NAME`), and for a single-host TCP target its
/// `host:port` as configured (the host as written, lower case; IPv6 in brackets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetKeys {
    pub label: String,
    pub name: Option<String>,
    pub service: Option<String>,
    pub host_port: Option<String>,
}

impl TargetKeys {
    /// The keys of a resolved target; `service` is the one it was given by (PGSERVICE names no target:
    /// every target of the environment would share it).
    pub fn of(
        label: &str,
        name: Option<&str>,
        service: Option<&str>,
        spec: &ConnSpec,
    ) -> TargetKeys {
        let hosts = spec.targets();
        let host_port = match hosts.as_slice() {
            [h] if !h.is_socket() => {
                let host = h.display_host();
                (!host.is_empty()).then(|| host_port(&host, h.port()))
            }
            _ => None,
        };
        TargetKeys {
            label: label.to_string(),
            name: name.map(str::to_string),
            service: service.map(str::to_string),
            host_port,
        }
    }
}

/// `host:port` as the probe compares it: the host in lower case, an IPv6 address in brackets.
fn host_port(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `HOST:PORT` or `[V6]:PORT` as the probe's parameter spells it, in [`host_port`]'s form; None for
/// anything else (a conninfo, a URI, a bare name).
fn parse_host_port(text: &str) -> Option<String> {
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (h, p) = rest.split_once("]:")?;
            (h, p)
        }
        None => match text.rsplit_once(':')? {
            // An IPv6 address is written in brackets.
            (h, _) if h.contains(':') => return None,
            hp => hp,
        },
    };
    if host.is_empty()
        || port.is_empty()
        || !port.chars().all(|c| c.is_ascii_digit())
        || host
            .chars()
            .any(|c| c.is_whitespace() || "/=@?#[]".contains(c))
    {
        return None;
    }
    let port: u16 = port.parse().ok()?;
    Some(host_port(host, port))
}

/// Which configured target a probe names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeMatch {
    /// The target at this index.
    Target(usize),
    /// Several targets share the service or `host:port` (their labels): the request is ambiguous.
    Ambiguous(Vec<String>),
    /// Nothing configured: answered without connecting anywhere or resolving any name.
    Unknown,
}

/// The configured target `wanted` names: a target's name first, then a service name, then a single-host
/// TCP target's `host:port`. Strings only: nothing here resolves a name or connects.
pub fn match_probe(targets: &[TargetKeys], wanted: &str) -> ProbeMatch {
    if wanted.is_empty() {
        return ProbeMatch::Unknown;
    }
    if let Some(i) = targets
        .iter()
        .position(|t| t.name.as_deref() == Some(wanted))
    {
        return ProbeMatch::Target(i);
    }
    let one_of = |hits: Vec<usize>| match hits.as_slice() {
        [] => None,
        [i] => Some(ProbeMatch::Target(*i)),
        _ => Some(ProbeMatch::Ambiguous(
            hits.iter().map(|&i| targets[i].label.clone()).collect(),
        )),
    };
    let services: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].service.as_deref() == Some(wanted))
        .collect();
    if let Some(m) = one_of(services) {
        return m;
    }
    if let Some(wanted) = parse_host_port(wanted) {
        let hits: Vec<usize> = (0..targets.len())
            .filter(|&i| targets[i].host_port.as_deref() == Some(wanted.as_str()))
            .collect();
        if let Some(m) = one_of(hits) {
            return m;
        }
    }
    ProbeMatch::Unknown
}

/// One configured target.
struct Target {
    keys: TargetKeys,
    spec: ConnSpec,
}

/// The configured targets of the command line (`-d`, `--service`, `--targets`), each resolved at
/// start: one whose options do not resolve refuses the start (exit 2), naming it.
pub fn configured_targets(conn: &ConnOptions) -> Result<Vec<(FleetTarget, TargetKeys)>> {
    let mut out = Vec::new();
    for t in fleet::targets(conn)? {
        let spec = match &t.spec {
            Ok(s) => s,
            Err(e) => {
                return Err(crate::exit::refuse(format!(
                    "target {}: {}",
                    t.label,
                    fleet::one_line(e)
                )))
            }
        };
        let keys = TargetKeys::of(&t.label, t.name.as_deref(), t.service.as_deref(), spec);
        out.push((t, keys));
    }
    // Two targets with one label would print the same series twice (Prometheus keeps one of them).
    for (i, (a, _)) in out.iter().enumerate() {
        if let Some(j) = out[..i].iter().position(|(b, _)| b.label == a.label) {
            return Err(crate::exit::refuse(format!(
                "targets {} and {} are both labelled {}: their series would be the same; give each a \
                 name in the targets file (`NAME: CONNINFO`); nothing was started",
                j + 1,
                i + 1,
                a.label
            )));
        }
    }
    Ok(out)
}

/// One target's scrape: its result (the status report, or how it failed, with the error on one line,
/// redacted, for the log) and how long it took.
#[derive(Debug, Clone)]
pub struct Collected {
    pub result: TargetResult<StatusReport>,
    /// The error on one line, secrets removed (what the log says).
    pub error_line: Option<String>,
    pub seconds: f64,
}

impl Collected {
    fn failed(label: &str, kind: FailureKind, message: String) -> Collected {
        Collected {
            result: TargetResult {
                target: label.to_string(),
                warnings: Vec::new(),
                ok: false,
                error: Some(message.clone()),
                error_kind: Some(kind),
                sqlstate: None,
                error_line: Some(message.clone()),
                report: None,
            },
            error_line: Some(message),
            seconds: 0.0,
        }
    }

    fn timed_out(&self) -> bool {
        self.result.error_kind == Some(FailureKind::Timeout)
    }
}

/// An attempt at one target: its result once known, and whether its connection may still be open.
struct Flight {
    started: Instant,
    state: Mutex<FlightState>,
    done: Condvar,
}

struct FlightState {
    result: Option<Arc<Collected>>,
    /// The attempt's thread (and so its connection) has not ended.
    open: bool,
}

impl Flight {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlightState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Held by the attempt's work until its thread ends (after the connection is closed, or when it was
/// never started): the flight is then no longer open, and the next scrape may connect again.
struct OpenUntilDropped {
    flight: Arc<Flight>,
    idx: usize,
    inner: Weak<Inner>,
}

impl Drop for OpenUntilDropped {
    fn drop(&mut self) {
        self.flight.lock().open = false;
        if let Some(inner) = self.inner.upgrade() {
            let mut flights = inner.flights.lock().unwrap_or_else(|p| p.into_inner());
            if flights
                .get(&self.idx)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            {
                flights.remove(&self.idx);
            }
        }
    }
}

struct Inner {
    targets: Vec<Target>,
    limit: ConnectionLimit,
    flights: Mutex<HashMap<usize, Arc<Flight>>>,
    status: StatusRequest,
    show_sql: bool,
}

/// The scrapes of every configured target (see the module's rules). Cloning shares it.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Inner>,
}

/// A scrape begun: its result already known, or an attempt to wait for.
enum Pending {
    Ready(Arc<Collected>),
    Wait(usize, Arc<Flight>),
}

impl Collector {
    /// A collector of `targets` (from [`configured_targets`]) with at most `jobs` connections at once.
    pub fn new(
        targets: Vec<(FleetTarget, TargetKeys)>,
        jobs: usize,
        req: &ExporterRequest,
        show_sql: bool,
    ) -> Collector {
        let targets = targets
            .into_iter()
            .filter_map(|(t, keys)| t.spec.ok().map(|spec| Target { keys, spec }))
            .collect();
        Collector {
            inner: Arc::new(Inner {
                targets,
                limit: ConnectionLimit::new(jobs),
                flights: Mutex::new(HashMap::new()),
                status: req.status.clone(),
                show_sql,
            }),
        }
    }

    /// Every target's keys, in the configured order.
    pub fn keys(&self) -> Vec<TargetKeys> {
        self.inner.targets.iter().map(|t| t.keys.clone()).collect()
    }

    /// Scrape one target by `deadline` (blocking).
    pub fn collect(&self, idx: usize, deadline: Instant) -> Arc<Collected> {
        let p = self.begin(idx, deadline);
        self.finish(p, deadline)
    }

    /// Scrape every target by `deadline`, concurrently (blocking); the results in the configured order.
    pub fn collect_all(&self, deadline: Instant) -> Vec<Arc<Collected>> {
        let pending: Vec<Pending> = (0..self.inner.targets.len())
            .map(|i| self.begin(i, deadline))
            .collect();
        pending
            .into_iter()
            .map(|p| self.finish(p, deadline))
            .collect()
    }

    fn begin(&self, idx: usize, deadline: Instant) -> Pending {
        let label = &self.inner.targets[idx].keys.label;
        let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = flights.get(&idx) {
            let st = f.lock();
            if st.open {
                return match &st.result {
                    None => Pending::Wait(idx, Arc::clone(f)),
                    // Given up on and still open (a server that accepted and never answered): no
                    // second connection while it is.
                    Some(r) if r.timed_out() => Pending::Ready(Arc::new(Collected::failed(
                        label,
                        FailureKind::Timeout,
                        format!(
                            "{label}: an attempt started {} ago and given up on is still open; no other connection is made while it is",
                            crate::report::typed_duration(Duration::from_secs(f.started.elapsed().as_secs()))
                        ),
                    ))),
                    // Just answered; its connection is being closed.
                    Some(r) => Pending::Ready(Arc::clone(r)),
                };
            }
        }
        let flight = Arc::new(Flight {
            started: Instant::now(),
            state: Mutex::new(FlightState {
                result: None,
                open: true,
            }),
            done: Condvar::new(),
        });
        flights.insert(idx, Arc::clone(&flight));
        drop(flights);
        self.start(idx, Arc::clone(&flight), deadline);
        Pending::Wait(idx, flight)
    }

    fn finish(&self, p: Pending, deadline: Instant) -> Arc<Collected> {
        let (idx, flight) = match p {
            Pending::Ready(r) => return r,
            Pending::Wait(idx, f) => (idx, f),
        };
        let mut st = flight.lock();
        loop {
            if let Some(r) = &st.result {
                return Arc::clone(r);
            }
            let now = Instant::now();
            if now >= deadline {
                let label = &self.inner.targets[idx].keys.label;
                let waited = now.saturating_duration_since(flight.started);
                let e = anyhow::Error::new(TargetTimeout(waited, "the scrape's deadline"))
                    .context(format!("{label}: waited for the attempt in flight"));
                return Arc::new(Collected::failed(
                    label,
                    FailureKind::Timeout,
                    fleet::one_line(&e),
                ));
            }
            st = flight
                .done
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Start the attempt of `flight` on a thread of its own: the fleet's runner with this process's
    /// limit, one target, no prompt, no WAL sender route, ended by `deadline`.
    fn start(&self, idx: usize, flight: Arc<Flight>, deadline: Instant) {
        let inner = Arc::clone(&self.inner);
        let waiting = Arc::clone(&flight);
        let open = OpenUntilDropped {
            flight: Arc::clone(&flight),
            idx,
            inner: Arc::downgrade(&self.inner),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("scrape-{idx}"))
            .spawn(move || {
                let t = &inner.targets[idx];
                let started = Instant::now();
                let opts = RunOptions {
                    jobs: inner.limit.max(),
                    timeout: deadline.saturating_duration_since(started),
                    show_sql: inner.show_sql,
                    prompt: false,
                    overall: None,
                    deadline: Some(deadline),
                    attended: false,
                    break_glass: db::BreakGlass::Never,
                }
                .unattended()
                .until(deadline);
                let req = inner.status.clone();
                let target = FleetTarget {
                    label: t.keys.label.clone(),
                    spec: Ok(t.spec.clone()),
                    name: t.keys.name.clone(),
                    service: t.keys.service.clone(),
                };
                let outcome = fleet::run_with(vec![target], opts, &inner.limit, move |db| {
                    // Held while the connection may be open (see OpenUntilDropped).
                    let _open = &open;
                    scrape(db, &req, deadline)
                })
                .pop();
                let collected = match outcome {
                    Some(o) => {
                        let error_line = o
                            .result
                            .as_ref()
                            .err()
                            .map(|e| conninfo::redact(&fleet::one_line(e)));
                        Collected {
                            result: o.into_result(),
                            error_line,
                            seconds: started.elapsed().as_secs_f64(),
                        }
                    }
                    None => Collected::failed(
                        &t.keys.label,
                        FailureKind::Query,
                        "no result".to_string(),
                    ),
                };
                let mut st = flight.lock();
                st.result = Some(Arc::new(collected));
                flight.done.notify_all();
            });
        if let Err(e) = spawned {
            // The work (and its OpenUntilDropped) is gone with the closure: the flight is closed.
            let label = &self.inner.targets[idx].keys.label;
            let failed = Collected::failed(
                label,
                FailureKind::Query,
                format!("{label}: could not start a thread: {e}"),
            );
            let mut st = waiting.lock();
            st.result = Some(Arc::new(failed));
            waiting.done.notify_all();
        }
    }
}

/// One scrape on a connection: pgconn's own statement_timeout and lock_timeout from what is left of the
/// deadline (so that a lock cannot hold its backend after Prometheus gave up), then status's statement.
/// The settings are `SET LOCAL` in a transaction around the statement, so that they end with it even
/// behind a transaction pooler that let pgconn's startup options through unused.
fn scrape(db: &mut Db, req: &StatusRequest, deadline: Instant) -> Result<StatusReport> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_millis(5) {
        return Err(
            anyhow::Error::new(TargetTimeout(left, "the scrape's deadline"))
                .context(format!("{}: connected too late", db.target_label())),
        );
    }
    // A little inside the deadline, so that the server's own timeout (not the race between it and the
    // deadline's) ends a statement that runs too long, and says so as a timeout.
    let ms = (left.as_millis() * 9 / 10).max(1);
    let lock = ms.min(5_000);
    let report = if db.pooled() {
        // Behind a pooler that refused pgconn's startup options, every statement already runs in a
        // transaction of pgconn's own with its timeouts (db::Db::query): the deadline's, here.
        db.limit_pooled_timeouts(ms, lock);
        status::collect(db, req)
    } else {
        db.execute_simple(&format!(
            "BEGIN; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {lock}"
        ))?;
        let report = status::collect(db, req);
        // After a failed statement this ends the aborted transaction (a rollback).
        let ended = db.execute_simple("COMMIT");
        match (report, ended) {
            (Ok(r), Ok(())) => Ok(r),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        }
    };
    report.map_err(|e| {
        // The scrape's own statement_timeout or lock_timeout: the deadline, as Prometheus sees it.
        let timed_out = matches!(
            crate::db::sqlstate(&e),
            Some(c) if c == postgres::error::SqlState::QUERY_CANCELED
                || c == postgres::error::SqlState::LOCK_NOT_AVAILABLE
        );
        if timed_out {
            anyhow::Error::new(TargetTimeout(left, "the scrape's deadline"))
                .context(crate::fleet::one_line(&e))
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(
        label: &str,
        name: Option<&str>,
        service: Option<&str>,
        hp: Option<&str>,
    ) -> TargetKeys {
        TargetKeys {
            label: label.into(),
            name: name.map(Into::into),
            service: service.map(Into::into),
            host_port: hp.map(Into::into),
        }
    }

    fn configured() -> Vec<TargetKeys> {
        vec![
            keys("prod", Some("prod"), None, Some("db1.example:5432")),
            keys("db2:5432/app", None, Some("reporting"), Some("db2:5432")),
            keys("db3:5432/a", None, None, Some("db3:5432")),
            keys("db3:5432/b", None, None, Some("db3:5432")),
            keys("/run/pg:5432/x", None, None, None),
            keys("[::1]:5433/x", None, None, Some("[::1]:5433")),
        ]
    }

    #[test]
    fn a_probe_names_a_configured_target_by_name_service_or_host_port() {
        let t = configured();
        assert_eq!(match_probe(&t, "prod"), ProbeMatch::Target(0));
        assert_eq!(match_probe(&t, "reporting"), ProbeMatch::Target(1));
        assert_eq!(match_probe(&t, "db1.example:5432"), ProbeMatch::Target(0));
        assert_eq!(match_probe(&t, "DB1.Example:5432"), ProbeMatch::Target(0));
        assert_eq!(match_probe(&t, "db2:05432"), ProbeMatch::Target(1));
        assert_eq!(match_probe(&t, "[::1]:5433"), ProbeMatch::Target(5));
        assert_eq!(
            match_probe(&t, "db3:5432"),
            ProbeMatch::Ambiguous(vec!["db3:5432/a".into(), "db3:5432/b".into()])
        );
    }

    #[test]
    fn anything_else_is_unknown_without_resolving_or_connecting() {
        let t = configured();
        for wanted in [
            "",
            "not-configured",
            "evil.example:5432",
            "anything.invalid:5432",
            "db1.example",
            "db1.example:5433",
            "db1.example:99999",
            "host=db1.example port=5432",
            "postgresql://db1.example:5432/app",
            "postgres://u:pw@db2:5432/app",
            "service=reporting",
            "prod ",
            "/run/pg:5432",
            "db2:5432/app",
            "[::1]:5432",
            "::1:5433",
        ] {
            assert_eq!(match_probe(&t, wanted), ProbeMatch::Unknown, "{wanted:?}");
        }
    }

    #[test]
    fn host_ports_are_read_only_from_host_port_text() {
        assert_eq!(parse_host_port("Db:5432").as_deref(), Some("db:5432"));
        assert_eq!(parse_host_port("[::1]:1").as_deref(), Some("[::1]:1"));
        for bad in [
            "db", "db:", ":5432", "db:x", "a b:1", "a=b:1", "u@h:1", "h/x:1", "[::1]",
        ] {
            assert_eq!(parse_host_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_deadline_is_the_scrape_timeout_less_the_offset_within_the_target_timeout() {
        let req = ExporterRequest {
            target_timeout: Duration::from_secs(30),
            ..ExporterRequest::default()
        };
        let now = Instant::now();
        assert_eq!(req.deadline(now, None), now + Duration::from_secs(30));
        assert_eq!(
            req.deadline(now, Some("10")),
            now + Duration::from_millis(9_500)
        );
        assert_eq!(
            req.deadline(now, Some(" 2.5 ")),
            now + Duration::from_secs(2)
        );
        assert_eq!(
            req.deadline(now, Some("120")),
            now + Duration::from_secs(30)
        );
        assert_eq!(
            req.deadline(now, Some("0.4")),
            now + Duration::from_millis(400)
        );
        for bad in ["x", "-3", "0", "NaN", "inf", ""] {
            assert_eq!(
                req.deadline(now, Some(bad)),
                now + Duration::from_secs(30),
                "{bad}"
            );
        }
    }
}
