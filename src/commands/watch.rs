//! `pgconn watch`: sample `status` every --interval, keep a window of history per target and show it:
//! full-screen on a terminal, one line per sample otherwise. A sampler thread owns the connections (one
//! per target, kept open between samples) and sends each round to the display, so the screen stays
//! responsive to `q` while a server is slow or away. A lost server is retried with backoff.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Result};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::activity;
use crate::commands::advise::SHORT_IDLE_IN_TRANSACTION;
use crate::files;
use crate::report::advise::{RecordedSample, WorkingCount};

use crate::analysis::churn;
use crate::commands::status::{self, StatusRequest};
use crate::conninfo::ConnSpec;
use crate::db::ConnOptions;
use crate::db::{BreakGlass, Db};
use crate::fleet::{self, one_line, RunOptions};
use crate::report::status::StatusReport;
use crate::report::watch::{Churn, Delta, Down, Point, Round, TargetView};

/// Samples kept per target.
pub const HISTORY: usize = 1000;
/// The longest wait between reconnection attempts (unless --interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

struct Monitor {
    label: String,
    spec: ConnSpec,
    db: Option<Db>,
    history: VecDeque<Option<Point>>,
    last: Option<StatusReport>,
    /// When `last` was read.
    last_at: Option<Instant>,
    change: Option<Delta>,
    churn: Vec<Churn>,
    down: Option<Down>,
    attempted: bool,
    reconnected: bool,
    /// Whether a reconnection may use the emergency route (never, unless told).
    break_glass: BreakGlass,
    /// With `--record`: this round's working sessions per application (None: not read).
    working: Option<Vec<WorkingCount>>,
}

impl Monitor {
    fn new(label: String, spec: ConnSpec, db: Option<Db>, break_glass: BreakGlass) -> Monitor {
        Monitor {
            break_glass,
            label,
            spec,
            db,
            history: VecDeque::new(),
            last: None,
            last_at: None,
            change: None,
            churn: Vec::new(),
            down: None,
            attempted: false,
            reconnected: false,
            working: None,
        }
    }

    fn due(&self, now: Instant) -> bool {
        self.down.as_ref().is_none_or(|d| now >= d.retry_at)
    }

    fn push(&mut self, p: Option<Point>) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(p);
    }

    fn attempt(&mut self, s: &StatusRequest, show_sql: bool, interval: Duration, record: bool) {
        self.attempted = true;
        self.reconnected = false;
        self.working = None;
        let result = match self.db.as_mut() {
            Some(db) => status::collect(db, s),
            None => Db::connect_unattended(self.spec.clone(), show_sql, self.break_glass).and_then(
                |mut db| {
                    let r = status::collect(&mut db, s);
                    self.db = Some(db);
                    r
                },
            ),
        };
        match result {
            Ok(report) => {
                let p = Point::of(&report);
                self.change = self.last.as_ref().map(Point::of).map(|q| Delta {
                    used: p.used - q.used,
                    idle: p.idle as i64 - q.idle as i64,
                    idle_in_transaction: p.idle_in_transaction as i64
                        - q.idle_in_transaction as i64,
                });
                // Each sample is a statement of its own, outside any transaction: the server's
                // statistics snapshot (stats_fetch_consistency) ends with it, so the next sample
                // reads fresh counters on this same long-lived connection.
                let at = Instant::now();
                self.churn = match (
                    self.last
                        .as_ref()
                        .and_then(|r| r.session_counters.as_deref()),
                    report.session_counters.as_deref(),
                    self.last_at,
                ) {
                    (Some(before), Some(after), Some(then)) => {
                        churn::rates(before, after, at.duration_since(then).as_secs_f64())
                    }
                    _ => Vec::new(),
                };
                self.last_at = Some(at);
                // For --record: the working sessions per application, one statement more on the same
                // connection (advise --samples' statement); a failure leaves this sample out of the file.
                if record {
                    if let Some(db) = self.db.as_mut() {
                        self.working =
                            activity::working_sample(db, &s.filter, &[], SHORT_IDLE_IN_TRANSACTION)
                                .ok();
                    }
                }
                self.reconnected = self.down.take().is_some();
                self.last = Some(report);
                self.push(Some(p));
            }
            Err(e) => {
                // Whatever failed, start over with a fresh connection on the next attempt.
                self.db = None;
                self.churn.clear();
                let backoff = match &self.down {
                    None => interval,
                    Some(d) => (d.backoff * 2).min(MAX_BACKOFF.max(interval)),
                };
                let since = self
                    .down
                    .as_ref()
                    .map(|d| d.since)
                    .unwrap_or_else(SystemTime::now);
                self.down = Some(Down {
                    error: one_line(&e),
                    since,
                    backoff,
                    retry_at: Instant::now() + backoff,
                });
                self.push(None);
            }
        }
    }

    fn view(&self) -> TargetView {
        TargetView {
            target: self.label.clone(),
            report: self.last.clone(),
            change: self.change,
            churn: self.churn.clone(),
            history: self.history.iter().copied().collect(),
            down: self.down.clone(),
            attempted: self.attempted,
            reconnected: self.reconnected,
        }
    }
}

struct Plan {
    status: StatusRequest,
    interval: Duration,
    count: Option<u64>,
    show_sql: bool,
    /// `--record`'s file.
    record: Option<File>,
    /// Why writing to it failed (recording then stops).
    record_error: Arc<Mutex<Option<String>>>,
}

/// Sample rounds until --count is reached, `stop` is set or the display hangs up.
fn sampler(
    mut monitors: Vec<Monitor>,
    mut plan: Plan,
    tx: mpsc::Sender<Round>,
    stop: Arc<AtomicBool>,
) {
    let mut number = 0u64;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < next {
            std::thread::sleep((next - now).min(Duration::from_millis(100)));
            continue;
        }
        let start = now;
        let due: Vec<bool> = monitors.iter().map(|m| m.due(start)).collect();
        if !due.iter().any(|d| *d) {
            next = monitors
                .iter()
                .filter_map(|m| m.down.as_ref().map(|d| d.retry_at))
                .min()
                .unwrap_or(start + plan.interval);
            continue;
        }
        std::thread::scope(|scope| {
            for (m, d) in monitors.iter_mut().zip(&due) {
                m.attempted = false;
                m.reconnected = false;
                if *d {
                    let (s, show_sql, interval) = (&plan.status, plan.show_sql, plan.interval);
                    let record = plan.record.is_some();
                    scope.spawn(move || m.attempt(s, show_sql, interval, record));
                }
            }
        });
        number += 1;
        if let Some(file) = plan.record.as_mut() {
            // A failed write ends the recording (watching goes on); the run says so when watch ends.
            if let Err(e) = record(file, &monitors) {
                plan.record = None;
                if let Ok(mut slot) = plan.record_error.lock() {
                    *slot = Some(e.to_string());
                }
            }
        }
        let round = Round {
            time: SystemTime::now(),
            number,
            interval: plan.interval,
            targets: monitors.iter().map(Monitor::view).collect(),
        };
        if tx.send(round).is_err() || plan.count.is_some_and(|c| number >= c) {
            return;
        }
        let tick = (monitors.iter().any(|m| m.down.is_none())).then_some(start + plan.interval);
        let retry = monitors
            .iter()
            .filter_map(|m| m.down.as_ref().map(|d| d.retry_at))
            .min();
        next = match (tick, retry) {
            (Some(t), Some(r)) => t.min(r),
            (t, r) => t.or(r).unwrap_or(start + plan.interval),
        };
    }
}

/// Append this round's samples to `--record`'s file: the round's JSON lines (one per target read) in one
/// write (a kill can cut only the last line, which `advise --from` tolerates).
fn record(file: &mut File, monitors: &[Monitor]) -> std::io::Result<()> {
    let time = crate::activity::now_rfc3339();
    let mut text = String::new();
    for m in monitors.iter().filter(|m| m.attempted) {
        let Some(applications) = &m.working else {
            continue;
        };
        let line = RecordedSample {
            time: time.clone(),
            target: m.label.clone(),
            idle_in_transaction_seconds: SHORT_IDLE_IN_TRANSACTION.as_secs_f64(),
            applications: applications.clone(),
        };
        if let Ok(json) = serde_json::to_string(&line) {
            text.push_str(&json);
            text.push('\n');
        }
    }
    if text.is_empty() {
        return Ok(());
    }
    file.write_all(text.as_bytes())
}

/// What `watch` is asked: a status sample every `interval`, `count` times (none: until stopped).
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub interval: Duration,
    pub count: Option<u64>,
    /// What each sample asks: watch's filters, grouping and thresholds.
    pub status: StatusRequest,
    /// Append each sample's working sessions per application to this file (JSON lines, for
    /// `advise --from`).
    pub record: Option<PathBuf>,
}

impl Default for WatchRequest {
    /// The command line's: every 2 seconds, until stopped, status's defaults.
    fn default() -> Self {
        WatchRequest {
            interval: Duration::from_secs(2),
            count: None,
            record: None,
            status: StatusRequest {
                session_counters: true,
                // One more statement per sample: not for a loop.
                leak_statements: false,
                ..StatusRequest::default()
            },
        }
    }
}

/// A running sampler: rounds arrive on `rounds` until --count is reached or [`Sampler::stop`].
pub struct Sampler {
    /// What resolving each target's connection options had to say: (target, warnings).
    pub warnings: Vec<(String, Vec<String>)>,
    pub rounds: mpsc::Receiver<Round>,
    pub stop: Arc<AtomicBool>,
    /// Why writing `--record`'s file failed, if it did (the recording stopped there).
    pub record_error: Arc<Mutex<Option<String>>>,
    handle: std::thread::JoinHandle<()>,
}

impl Sampler {
    /// Stop sampling. The sampler notices within 100 ms, or after a slow server answers; this does not
    /// wait for the latter.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.rounds);
        if self.handle.is_finished() {
            let _ = self.handle.join();
        }
    }
}

/// Check the options, resolve the targets (asking for a password once with -W; one target is connected
/// here, so a password is asked as psql would), and start sampling.
pub fn start(conn: &ConnOptions, args: &WatchRequest) -> Result<Sampler> {
    if args.interval < Duration::from_millis(100) {
        return Err(crate::exit::refuse("--interval must be at least 100ms"));
    }
    if args.count == Some(0) {
        return Err(crate::exit::refuse("--count must be at least 1"));
    }
    let mut targets = fleet::targets(conn)?;
    for t in &targets {
        if let Err(e) = &t.spec {
            return Err(anyhow!("{}: {e:#}", t.label));
        }
    }
    let warnings = targets
        .iter()
        .filter_map(|t| {
            let w = t.spec.as_ref().ok()?.warnings();
            (!w.is_empty()).then(|| (t.label.clone(), w.to_vec()))
        })
        .collect();
    let mut opts = RunOptions::from_conn(conn);
    fleet::ask_password_once(&mut targets, &mut opts)?;
    let single = targets.len() == 1;
    let mut monitors = Vec::new();
    for t in targets {
        let Ok(mut spec) = t.spec else { continue };
        let db = if single {
            Db::connect(spec.clone(), opts.prompt, opts.show_sql, opts.break_glass).ok()
        } else {
            None
        };
        if let Some(db) = &db {
            spec = db.spec().clone();
        }
        monitors.push(Monitor::new(t.label, spec, db, opts.break_glass));
    }

    let record_error = Arc::new(Mutex::new(None));
    let record = match &args.record {
        Some(path) => Some(files::open_durable(path)?.file),
        None => None,
    };
    let plan = Plan {
        status: args.status.clone(),
        interval: args.interval,
        count: args.count,
        show_sql: conn.show_sql,
        record,
        record_error: Arc::clone(&record_error),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rounds) = mpsc::channel();
    let sampler_stop = Arc::clone(&stop);
    let handle = std::thread::Builder::new()
        .name("sampler".into())
        .spawn(move || sampler(monitors, plan, tx, sampler_stop))?;
    Ok(Sampler {
        warnings,
        rounds,
        stop,
        record_error,
        handle,
    })
}

/// After --count rounds, whether the last one reached every target (a run without --count ends when
/// the person quits: that is not a failure).
pub fn all_reached(last: Option<&Round>, args: &WatchRequest) -> bool {
    !last.is_some_and(|r| args.count.is_some() && r.targets.iter().any(|t| t.down.is_some()))
}
