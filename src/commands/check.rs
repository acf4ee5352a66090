//! `pgconn check`: a Nagios/Icinga plugin. One status count per target (counted on the server, as for
//! `status`), compared with the thresholds and judged by status's leak rule; the exit code is the Nagios
//! state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) whatever the output format, and never the 1 other
//! commands use for connection failures.

use std::time::Duration;

use anyhow::Result;

use crate::activity::Filter;
use crate::analysis::capacity::CapacityThreshold;
use crate::analysis::Thresholds;
use crate::commands::status::{self, StatusRequest};
use crate::db::ConnOptions;
use crate::fleet::{self, one_line, RunOptions, TargetOutcome};
use crate::report::check::{CheckReport, CheckTarget, Measurement, ThresholdSettings};
use crate::report::fleet::FailureKind;
use crate::report::status::StatusReport;
use crate::report::typed_duration;
use crate::report::{age, Level};

/// What `check` is asked: thresholds, the format and where it goes, which sessions count.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRequest {
    /// Used slots at which the check says WARNING / CRITICAL.
    pub warning: CapacityThreshold,
    pub critical: CapacityThreshold,
    /// Sessions idle for longer than `idle_age` at which it says WARNING / CRITICAL.
    pub idle_warning: Option<usize>,
    pub idle_critical: Option<usize>,
    pub idle_age: Duration,
    /// The age of the oldest idle-in-transaction session at which it says WARNING / CRITICAL (the
    /// warning defaults to status's rule: see [`idle_in_transaction_warning`]).
    pub idle_in_transaction_warning: Option<Duration>,
    pub idle_in_transaction_critical: Option<Duration>,
    /// The state of a target that cannot be reached.
    pub unreachable: Level,
    /// Connecting and querying, one target or many, end within this.
    pub timeout: Duration,
    pub format: CheckFormat,
    /// Written (atomically) to this file rather than stdout.
    pub output: Option<std::path::PathBuf>,
    pub filter: Filter,
    /// The status report's thresholds: status's defaults with check's leak rule.
    pub thresholds: Thresholds,
}

impl Default for CheckRequest {
    /// The command line's defaults: WARNING at 80% of the usable slots, CRITICAL at 95%, idle sessions
    /// counted from 10 minutes, unreachable is CRITICAL, 9 seconds in all, Nagios text on stdout.
    fn default() -> Self {
        CheckRequest {
            warning: CapacityThreshold::Percent(80.0),
            critical: CapacityThreshold::Percent(95.0),
            idle_warning: None,
            idle_critical: None,
            idle_age: Duration::from_secs(600),
            idle_in_transaction_warning: None,
            idle_in_transaction_critical: None,
            unreachable: Level::Critical,
            timeout: Duration::from_secs(9),
            format: CheckFormat::Nagios,
            output: None,
            filter: Filter::default(),
            thresholds: Thresholds::default(),
        }
    }
}

/// The plugin's output: Nagios text, JSON, or Prometheus text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFormat {
    Nagios,
    Json,
    Prometheus,
}

fn measurement(name: &'static str, value: f64) -> Measurement {
    Measurement {
        name,
        value,
        unit: "",
        warning: None,
        critical: None,
        min: None,
        max: None,
    }
}

/// What one target's snapshot gives the check.
pub struct Sample {
    pub report: StatusReport,
    /// Sessions idle (state `idle`) for longer than --idle-age.
    pub idle_long: usize,
}

/// `status`'s own defaults for everything the check does not set (grouping, the rest of its verdict
/// thresholds); the leak rule's options are check's.
fn status_request(args: &CheckRequest) -> StatusRequest {
    StatusRequest {
        filter: args.filter.clone(),
        thresholds: args.thresholds.clone(),
        // Prometheus text carries postgres_exporter's counts too, which the statement then makes.
        format: (args.format == CheckFormat::Prometheus)
            .then_some(status::StatusFormat::Prometheus),
        leak_statements: false,
        ..StatusRequest::default()
    }
}

fn sample(db: &mut crate::db::Db, s: &StatusRequest, idle_age: Duration) -> Result<Sample> {
    // Counted on the server, like `status`: no row per session crosses the wire.
    let (report, tally) = status::collect_counted(db, s, Some(idle_age))?;
    let idle_long = tally
        .buckets
        .iter()
        .filter(|b| b.state == Some(crate::report::State::Idle))
        .map(|b| b.older_than_extra_age)
        .sum();
    Ok(Sample { report, idle_long })
}

/// The WARNING age of the oldest idle-in-transaction session: as given; else status's own rule
/// (`--idle-in-transaction-age`'s default, 5min), so that check flags what status flags — unless a
/// lower --idle-in-transaction-critical was given, which then decides alone.
pub fn idle_in_transaction_warning(args: &CheckRequest) -> Option<Duration> {
    args.idle_in_transaction_warning.or_else(|| {
        let status = crate::analysis::Thresholds::default().idle_in_transaction_age;
        Some(status).filter(|w| args.idle_in_transaction_critical.is_none_or(|c| *w <= c))
    })
}

/// The group holding the most sessions, by name: "leaky-worker (user app, database appdb) holds 88, 88
/// idle, oldest 14m03s". Groups are per database, user and application (check's status grouping).
fn largest_holder(r: &StatusReport) -> Option<String> {
    let g = r.groups.first()?;
    let key = |k: &str| g.key.get(k).cloned().flatten();
    let application = key("application").filter(|a| !a.is_empty());
    let mut of = Vec::new();
    if let Some(u) = key("user") {
        of.push(format!("user {u}"));
    }
    if let Some(d) = key("database") {
        of.push(format!("database {d}"));
    }
    let name = match (application, of.is_empty()) {
        (Some(a), true) => a,
        (Some(a), false) => format!("{a} ({})", of.join(", ")),
        (None, true) => "sessions without an application name".to_string(),
        (None, false) => format!("sessions without an application name ({})", of.join(", ")),
    };
    let mut text = format!(
        "{name} holds {}, {} idle",
        g.sessions,
        crate::report::State::Idle.count_in(&g.states)
    );
    if let Some(a) = g.oldest_idle_seconds {
        text.push_str(&format!(", oldest {}", age(a)));
    }
    Some(text)
}

/// Judge one target's sample against the thresholds.
pub fn evaluate(target: &str, s: Sample, args: &CheckRequest) -> CheckTarget {
    let iit_warning = idle_in_transaction_warning(args);
    let r = &s.report;
    let c = &r.capacity;
    let (used, usable) = (c.used, c.usable_slots);
    // (severity, text) of each part of the summary; parts that fired come first.
    let mut parts: Vec<(Level, String)> = Vec::new();

    let cap = c.describe();
    parts.push(if args.critical.reached(used, usable) {
        (
            Level::Critical,
            format!("{cap} (critical at {})", args.critical),
        )
    } else if args.warning.reached(used, usable) {
        (
            Level::Warning,
            format!("{cap} (warning at {})", args.warning),
        )
    } else {
        (Level::Ok, cap)
    });

    let idle_age = typed_duration(args.idle_age);
    let idle = format!("{} idle longer than {idle_age}", s.idle_long);
    parts.push(match (args.idle_critical, args.idle_warning) {
        (Some(n), _) if s.idle_long >= n => (Level::Critical, format!("{idle} (critical at {n})")),
        (_, Some(n)) if s.idle_long >= n => (Level::Warning, format!("{idle} (warning at {n})")),
        _ => (Level::Ok, idle),
    });

    // status's leak rule (analysis::status), on the same counts: a (database, user, application) it names
    // as a possible leak is a WARNING here too. --idle-warning/--idle-critical can only add to it.
    for l in &r.leak_suspects {
        parts.push((Level::Warning, l.reason.clone()));
    }
    // A role or database at (or near) its connection limit (analysis::limits, status's verdict too).
    parts.extend(r.limits.reasons.iter().cloned());

    let oldest = r.oldest_idle_in_transaction_seconds;
    let reached = |d: Option<Duration>| match (d, oldest) {
        (Some(d), Some(a)) => a >= d.as_secs_f64(),
        _ => false,
    };
    if let Some(a) = oldest {
        let text = format!("oldest idle in transaction {}", age(a));
        let (level, mut text) = if reached(args.idle_in_transaction_critical) {
            let limit = typed_duration(args.idle_in_transaction_critical.unwrap_or_default());
            (Level::Critical, format!("{text} (critical at {limit})"))
        } else if reached(iit_warning) {
            let limit = typed_duration(iit_warning.unwrap_or_default());
            (Level::Warning, format!("{text} (warning at {limit})"))
        } else {
            (Level::Ok, text)
        };
        // Who: "...: pid 4242, user app, application billing-api, client 10.0.0.7".
        if let Some(t) = &r.oldest_idle_in_transaction {
            text.push_str(&format!(": {}", t.who()));
        }
        parts.push((level, text));
    }

    let status = parts.iter().map(|p| p.0).max().unwrap_or(Level::Ok);
    let reasons: Vec<String> = parts
        .iter()
        .filter(|p| p.0 != Level::Ok)
        .map(|p| p.1.clone())
        .collect();
    parts.sort_by_key(|p| std::cmp::Reverse(p.0));
    // Who holds the slots, right after the state that fired, when something did.
    if status > Level::Ok {
        if let Some(h) = largest_holder(r) {
            parts.insert(1.min(parts.len()), (status, h));
        }
    }
    let summary = parts
        .iter()
        .map(|p| p.1.as_str())
        .collect::<Vec<_>>()
        .join("; ");

    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let state = |s: crate::report::State| s.count_in(&r.states) as f64;
    let measurements = vec![
        Measurement {
            warning: Some(args.warning.as_used(usable)),
            critical: Some(args.critical.as_used(usable)),
            min: Some(0.0),
            // Sessions in the reserved slots take used past the ordinary slots: the real ceiling is
            // max_connections.
            max: Some(f64::from(c.max_connections)),
            ..measurement("used", used as f64)
        },
        Measurement {
            min: Some(0.0),
            max: Some(f64::from(c.max_connections - usable)),
            ..measurement("reserved_used", c.in_reserved_slots as f64)
        },
        Measurement {
            min: Some(0.0),
            max: Some(f64::from(usable)),
            ..measurement("slots_left", c.slots_left as f64)
        },
        measurement("max_connections", f64::from(c.max_connections)),
        measurement("active", state(crate::report::State::Active)),
        measurement("idle", state(crate::report::State::Idle)),
        measurement(
            "idle_in_transaction",
            crate::report::idle_in_transaction(&r.states) as f64,
        ),
        Measurement {
            warning: args.idle_warning.map(|n| n as f64),
            critical: args.idle_critical.map(|n| n as f64),
            min: Some(0.0),
            ..measurement("idle_long", s.idle_long as f64)
        },
        Measurement {
            unit: "s",
            warning: secs(iit_warning),
            critical: secs(args.idle_in_transaction_critical),
            min: Some(0.0),
            ..measurement("oldest_idle_in_transaction", oldest.unwrap_or(0.0))
        },
    ];
    // What connecting had to say first (the connection options', the route's), then the count's.
    let mut warnings = r.connection.warnings.clone();
    if r.not_visible > 0 {
        warnings.push(crate::report::not_visible_warning(
            r.not_visible,
            &r.server.current_user,
            "idle counts and ages leave them out",
        ));
    }
    CheckTarget {
        target: target.to_string(),
        status,
        summary,
        reasons,
        error: None,
        error_kind: None,
        sqlstate: None,
        measurements,
        warnings,
        report: Some(s.report),
    }
}

/// The state of a target that failed: refused with 53300 because it is full, because only the reserved
/// slots are left, or because the role or database is at its connection limit, is CRITICAL (the
/// application is refused too); unreachable follows --unreachable; the WAL sender route refused for
/// want of a WAL sender slot (`--break-glass always`) and anything else mean the check cannot tell
/// (UNKNOWN).
pub fn failed(target: &str, e: &anyhow::Error, args: &CheckRequest) -> CheckTarget {
    let kind = fleet::classify(e);
    let line = one_line(e);
    let (status, summary) = match kind {
        FailureKind::Full => (Level::Critical, format!("server full: {line}")),
        // The first line names the cause itself.
        FailureKind::ReservedOnly | FailureKind::RoleLimit | FailureKind::DatabaseLimit => {
            (Level::Critical, line)
        }
        FailureKind::WalSendersFull => (Level::Unknown, line),
        FailureKind::Unreachable | FailureKind::Timeout => {
            (args.unreachable, format!("unreachable: {line}"))
        }
        FailureKind::Refused | FailureKind::Query | FailureKind::Invalid => (Level::Unknown, line),
    };
    CheckTarget {
        target: target.to_string(),
        status,
        reasons: vec![summary.clone()],
        summary,
        error: Some(crate::conninfo::redact(&format!("{e:#}"))),
        error_kind: Some(kind),
        sqlstate: fleet::error_sqlstate(e),
        measurements: Vec::new(),
        warnings: Vec::new(),
        report: None,
    }
}

fn settings(args: &CheckRequest) -> ThresholdSettings {
    ThresholdSettings {
        warning: args.warning.to_string(),
        critical: args.critical.to_string(),
        idle_warning: args.idle_warning,
        idle_critical: args.idle_critical,
        idle_age_seconds: args.idle_age.as_secs_f64(),
        leak_idle_age_seconds: args.thresholds.leak_idle_age.as_secs_f64(),
        leak_min_sessions: args.thresholds.leak_min_sessions,
        leak_share_percent: args.thresholds.leak_share,
        idle_in_transaction_warning_seconds: idle_in_transaction_warning(args)
            .map(|d| d.as_secs_f64()),
        idle_in_transaction_critical_seconds: args
            .idle_in_transaction_critical
            .map(|d| d.as_secs_f64()),
        unreachable: args.unreachable,
    }
}

/// Sum up the targets.
pub fn combine(targets: Vec<CheckTarget>, many: bool, args: &CheckRequest) -> CheckReport {
    let status = Level::worst(targets.iter().map(|t| t.status));
    let summary = if !many && targets.len() == 1 {
        targets[0].summary.clone()
    } else {
        let mut counts = Vec::new();
        for l in [Level::Critical, Level::Warning, Level::Unknown, Level::Ok] {
            let n = targets.iter().filter(|t| t.status == l).count();
            if n > 0 {
                counts.push(format!("{n} {}", l.as_str()));
            }
        }
        let bad: Vec<String> = targets
            .iter()
            .filter(|t| t.status != Level::Ok)
            .map(|t| format!("{} {}", t.target, t.status.as_str()))
            .collect();
        let mut s = format!("{} targets: {}", targets.len(), counts.join(", "));
        if !bad.is_empty() {
            s.push_str(&format!(" ({})", bad.join(", ")));
        }
        s
    };
    CheckReport {
        status,
        exit_code: status.nagios_code(),
        summary,
        thresholds: settings(args),
        targets,
    }
}

/// What the check found: the judged targets, or why nothing could be judged (UNKNOWN), in the format
/// asked for.
pub enum CheckRun {
    Judged {
        report: Box<CheckReport>,
        format: CheckFormat,
        many: bool,
        /// `--output FILE`.
        output: Option<std::path::PathBuf>,
    },
    /// A usage error or a target list that cannot be read: UNKNOWN before any server is asked.
    Unknown {
        format: CheckFormat,
        message: String,
    },
}

/// Judge every target. (A request that could not be built, a usage error, is UNKNOWN before this:
/// [`CheckRun::Unknown`].)
pub fn run(conn: &ConnOptions, args: &CheckRequest) -> CheckRun {
    let format = args.format;
    let many = fleet::is_many(conn);
    let targets = match fleet::targets(conn) {
        Ok(t) => t,
        Err(e) => {
            return CheckRun::Unknown {
                format,
                message: one_line(&e),
            }
        }
    };
    let s = status_request(args);
    let idle_age = args.idle_age;
    let mut opts = RunOptions::from_conn(conn);
    // Connecting and querying, one target or many, end within --timeout.
    opts.overall = Some(args.timeout);
    opts.timeout = opts.timeout.min(args.timeout);
    let outcomes: Vec<TargetOutcome<Sample>> =
        fleet::run(targets, opts, move |db| sample(db, &s, idle_age));
    let judged: Vec<CheckTarget> = outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok(sample) => evaluate(&o.target, sample, args),
            Err(e) => CheckTarget {
                warnings: o.warnings,
                ..failed(&o.target, &e, args)
            },
        })
        .collect();
    CheckRun::Judged {
        report: Box::new(combine(judged, many, args)),
        format,
        many,
        output: args.output.clone(),
    }
}
