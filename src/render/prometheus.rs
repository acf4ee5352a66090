//! Prometheus text exposition format (version 0.0.4): gauges named `pgconn_*` with HELP and TYPE lines,
//! units in the names, a `target` label on every sample, label values escaped.

use crate::report::fleet::FailureKind;
use crate::report::status::StatusReport;
use crate::report::State;

/// Samples of gauges, kept per metric family in the order the families were first used (every sample of
/// a family is printed together, as the format requires).
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    counter: bool,
    samples: Vec<(Vec<(String, String)>, f64)>,
}

impl Exposition {
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Add a gauge sample.
    pub fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.sample(name, help, false, labels, value);
    }

    /// Add a counter sample: a value that only grows (until the server resets it). Its name ends in
    /// `_total`, and without that suffix it must not be a gauge's name (OpenMetrics parsers, promtool's
    /// among them, see the family without it).
    pub fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        debug_assert!(name.ends_with("_total"), "a counter's name ends in _total");
        self.sample(name, help, true, labels, value);
    }

    fn sample(
        &mut self,
        name: &'static str,
        help: &'static str,
        counter: bool,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(f) => f.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                help,
                counter,
                samples: vec![(labels, value)],
            }),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            out.push_str(&format!("# HELP {} {}\n", f.name, escape_help(f.help)));
            let kind = if f.counter { "counter" } else { "gauge" };
            out.push_str(&format!("# TYPE {} {kind}\n", f.name));
            for (labels, value) in &f.samples {
                out.push_str(f.name);
                if !labels.is_empty() {
                    let inner: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", escape_label_value(v)))
                        .collect();
                    out.push('{');
                    out.push_str(&inner.join(","));
                    out.push('}');
                }
                out.push(' ');
                out.push_str(&format_value(*value));
                out.push('\n');
            }
        }
        out
    }
}

/// Escape a label value: backslash, double quote and line feed.
pub fn escape_label_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Escape HELP text: backslash and line feed.
pub fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the format spells it: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

pub const UP: &str = "pgconn_up";

/// `pgconn_up` and postgres_exporter's `pg_up`: whether the target answered.
pub fn up(exp: &mut Exposition, target: &str, up: bool) {
    let value = if up { 1.0 } else { 0.0 };
    exp.gauge(
        UP,
        "1 when the target was connected to and queried, 0 when it failed",
        &[("target", target)],
        value,
    );
    exp.gauge(
        "pg_up",
        "Whether the last scrape of the server succeeded (postgres_exporter's name; the same as pgconn_up)",
        &[("target", target)],
        value,
    );
}

/// The help of `pgconn_scrape_error`: every kind of [`FailureKind::ALL`] (a test holds them together).
const SCRAPE_ERROR_HELP: &str = "1 for a target that could not be collected, with why: full, \
     reserved_only, role_limit, database_limit, wal_senders_full, unreachable, refused, timeout, query, \
     invalid";

/// A target that could not be collected: `pgconn_up 0` and `pgconn_scrape_error{kind} 1`, kind saying why
/// (the fleet's failure kinds).
pub fn failed(exp: &mut Exposition, target: &str, kind: FailureKind) {
    up(exp, target, false);
    exp.gauge(
        "pgconn_scrape_error",
        SCRAPE_ERROR_HELP,
        &[("target", target), ("kind", kind.key())],
        1.0,
    );
}

/// The gauges of one target's status report (pgconn_up included).
pub fn status_metrics(exp: &mut Exposition, target: &str, r: &StatusReport) {
    let t = [("target", target)];
    let c = &r.capacity;
    up(exp, target, true);
    exp.gauge(
        "pgconn_max_connections",
        "The server's max_connections setting",
        &t,
        f64::from(c.max_connections),
    );
    exp.gauge(
        "pgconn_platform_info",
        "The managed platform the server runs on (aws-rds, aws-aurora, cloud-sql, azure-flexible, supabase, neon), none when none was detected with strong evidence",
        &[
            ("target", target),
            (
                "platform",
                r.platform.managed().map(|p| p.name()).unwrap_or("none"),
            ),
        ],
        1.0,
    );
    exp.gauge(
        "pgconn_reserved_slots",
        "Slots ordinary roles cannot use: superuser_reserved_connections, plus reserved_connections on PostgreSQL 16+, or a managed platform's own reserve",
        &t,
        f64::from(c.max_connections - c.usable_slots),
    );
    exp.gauge(
        "pgconn_usable_slots",
        "Slots ordinary roles can use: max_connections minus the reserved slots",
        &t,
        f64::from(c.usable_slots),
    );
    exp.gauge(
        "pgconn_used_slots",
        "Client backends connected, pgconn's own included",
        &t,
        c.used as f64,
    );
    exp.gauge(
        "pgconn_slots_left",
        "Slots still free for ordinary roles (0 once the reserved slots are in use)",
        &t,
        c.slots_left as f64,
    );
    exp.gauge(
        "pgconn_used_ratio",
        "Used slots divided by the slots ordinary roles can use (1 and above: full)",
        &t,
        if c.usable_slots > 0 {
            c.used as f64 / f64::from(c.usable_slots)
        } else {
            1.0
        },
    );
    for s in State::KNOWN {
        let k = s.key();
        exp.gauge(
            "pgconn_sessions",
            "Client sessions per state (matching the filters, pgconn's own left out); not_visible: hidden from this role",
            &[("target", target), ("state", &k)],
            r.states.get(&k).copied().unwrap_or(0) as f64,
        );
    }
    for (k, n) in &r.states {
        if matches!(State::from_key(k), State::Other(_)) {
            exp.gauge(
                "pgconn_sessions",
                "",
                &[("target", target), ("state", k)],
                *n as f64,
            );
        }
    }
    exp.gauge(
        "pgconn_sessions",
        "",
        &[("target", target), ("state", "not_visible")],
        r.not_visible as f64,
    );
    for g in &r.groups {
        let mut labels: Vec<(&str, &str)> = vec![("target", target)];
        for k in &r.group_by {
            labels.push((k, g.key.get(k).and_then(|v| v.as_deref()).unwrap_or("")));
        }
        exp.gauge(
            "pgconn_group_sessions",
            "Client sessions per group (status --by; the --top largest groups)",
            &labels,
            g.sessions as f64,
        );
    }
    leak_suspects(exp, target, r);
    session_counters(exp, target, r);
    postgres_exporter_names(exp, target, r);
    limit_sessions(exp, target, r);
    exp.gauge(
        "pgconn_oldest_idle_seconds",
        "Age of the oldest idle session's state (0 when none is idle)",
        &t,
        r.idle.oldest_seconds.unwrap_or(0.0),
    );
    exp.gauge(
        "pgconn_oldest_idle_in_transaction_seconds",
        "Age of the oldest idle-in-transaction session's state, aborted ones included (0 when there is none)",
        &t,
        r.oldest_idle_in_transaction_seconds.unwrap_or(0.0),
    );
    exp.gauge(
        "pgconn_blocked_sessions",
        "Client sessions waiting on a lock another session or a prepared transaction holds",
        &t,
        r.blocked_sessions as f64,
    );
    exp.gauge(
        "pgconn_head_blocker_seconds",
        "How long the head of the most blocked sessions' chains has been in its state (0 when nothing is blocked, or for a prepared transaction)",
        &t,
        r.head_blocker
            .as_ref()
            .and_then(|h| h.state_seconds)
            .unwrap_or(0.0),
    );
    exp.gauge(
        "pgconn_oldest_transaction_seconds",
        "Age of the oldest open transaction (0 when there is none)",
        &t,
        r.oldest_transaction_seconds.unwrap_or(0.0),
    );
}

/// pg_stat_database's session counters per database (PostgreSQL 14+; nothing when they were not read),
/// as counters: they only grow until the server's statistics are reset.
fn session_counters(exp: &mut Exposition, target: &str, r: &StatusReport) {
    for c in r.session_counters.iter().flatten() {
        let l = [("target", target), ("datname", c.database.as_str())];
        exp.counter(
            "pgconn_sessions_started_total",
            "Client sessions started in the database (pg_stat_database.sessions)",
            &l,
            c.sessions as f64,
        );
        exp.counter(
            "pgconn_sessions_abandoned_total",
            "Client sessions that ended without a Terminate message: the client closed the socket or died (pg_stat_database.sessions_abandoned)",
            &l,
            c.abandoned as f64,
        );
        exp.counter(
            "pgconn_sessions_fatal_total",
            "Client sessions ended by a FATAL error, idle and transaction timeouts included (pg_stat_database.sessions_fatal)",
            &l,
            c.fatal as f64,
        );
        exp.counter(
            "pgconn_sessions_killed_total",
            "Client sessions ended by SIGTERM: pg_terminate_backend, pgconn kill, pgconn rescue (pg_stat_database.sessions_killed)",
            &l,
            c.killed as f64,
        );
        exp.counter(
            "pgconn_session_time_seconds_total",
            "Time client sessions spent connected to the database (pg_stat_database.session_time)",
            &l,
            c.session_time_seconds,
        );
        exp.counter(
            "pgconn_idle_in_transaction_time_seconds_total",
            "Time client sessions spent idle in transaction (pg_stat_database.idle_in_transaction_time)",
            &l,
            c.idle_in_transaction_time_seconds,
        );
    }
}

/// `pgconn_leak_suspect` (1) and `pgconn_leak_suspect_idle_sessions` for each possible connection leak
/// of the report (status's leak rule), labelled with the (database, user, application) that holds it; a
/// database or user this role cannot see is an empty label. No suspect, no sample.
fn leak_suspects(exp: &mut Exposition, target: &str, r: &StatusReport) {
    for l in &r.leak_suspects {
        let labels = [
            ("target", target),
            ("database", l.database.as_deref().unwrap_or("")),
            ("user", l.user.as_deref().unwrap_or("")),
            ("application", l.application.as_str()),
        ];
        exp.gauge(
            "pgconn_leak_suspect",
            "1 for each (database, user, application) judged a possible connection leak by status's leak \
             rule (--leak-min-sessions, --leak-idle-age, --leak-share)",
            &labels,
            1.0,
        );
        exp.gauge(
            "pgconn_leak_suspect_idle_sessions",
            "Idle sessions held by each possible connection leak",
            &labels,
            l.idle as f64,
        );
        // Only when asked (`status --leak-statement-metric`): the fingerprint id, never the text.
        if let Some(d) = &l.statement {
            let mut labels = labels.to_vec();
            labels.push(("statement", d.fingerprint.statement.as_str()));
            exp.gauge(
                "pgconn_leak_suspect_statement_sessions",
                "Idle sessions of a possible connection leak that last ran its dominant statement, by the \
                 statement's fingerprint (status --leak-statement-metric)",
                &labels,
                d.sessions as f64,
            );
        }
    }
}

/// `pgconn_role_sessions{rolname}` and `pgconn_database_sessions{datname}` for each role and database with
/// a connection limit: the label names of postgres_exporter's `pg_roles_connection_limit` and
/// `pg_database_connection_limit`, so that `pgconn_role_sessions / on(rolname) pg_roles_connection_limit`
/// needs no label_replace.
fn limit_sessions(exp: &mut Exposition, target: &str, r: &StatusReport) {
    for l in &r.limits.roles {
        exp.gauge(
            "pgconn_role_sessions",
            "Client sessions of each role with a connection limit, as the server counts them against it \
             (superusers' included; their limit is not enforced)",
            &[("target", target), ("rolname", &l.user)],
            l.sessions as f64,
        );
    }
    for l in r.limits.databases.iter().filter(|d| !d.invalid) {
        exp.gauge(
            "pgconn_database_sessions",
            "Client sessions in each database with a connection limit, as the server counts them against it",
            &[("target", target), ("datname", &l.database)],
            l.sessions as f64,
        );
    }
}

/// The families postgres_exporter has under the same names, counted as it counts them, so that rules and
/// dashboards written for it read pgconn: its connection settings, and (when the statement counted them)
/// `pg_stat_activity_count` / `pg_stat_activity_max_tx_duration` with the labels of 0.17 and later, and
/// (when the statement read them all) every role's and database's connection limit.
fn postgres_exporter_names(exp: &mut Exposition, target: &str, r: &StatusReport) {
    let t = [("target", target)];
    let c = &r.capacity;
    exp.gauge(
        "pg_settings_max_connections",
        "Server Parameter: max_connections (postgres_exporter's name)",
        &t,
        f64::from(c.max_connections),
    );
    exp.gauge(
        "pg_settings_superuser_reserved_connections",
        "Server Parameter: superuser_reserved_connections (postgres_exporter's name)",
        &t,
        f64::from(c.superuser_reserved_connections),
    );
    if let Some(n) = c.reserved_connections {
        exp.gauge(
            "pg_settings_reserved_connections",
            "Server Parameter: reserved_connections, PostgreSQL 16+ (postgres_exporter's name)",
            &t,
            f64::from(n),
        );
    }
    for l in r.limit_rows.iter().flat_map(|l| &l.roles) {
        exp.gauge(
            "pg_roles_connection_limit",
            "Connection limit set for the role (postgres_exporter's name: every role, -1 for none)",
            &[("target", target), ("rolname", &l.name)],
            f64::from(l.limit),
        );
    }
    for l in r.limit_rows.iter().flat_map(|l| &l.databases) {
        exp.gauge(
            "pg_database_connection_limit",
            "Connection limit set for the database (postgres_exporter's name: every database, -1 for none, \
             -2 for one left invalid by an interrupted DROP DATABASE)",
            &[("target", target), ("datname", &l.name)],
            f64::from(l.limit),
        );
    }
    for a in r.activity_counts.iter().flatten() {
        let label = |v: &Option<String>| v.clone().unwrap_or_default();
        let values = [
            label(&a.datname),
            label(&a.state),
            label(&a.usename),
            label(&a.application_name),
            label(&a.backend_type),
            label(&a.wait_event_type),
            label(&a.wait_event),
        ];
        let labels = [
            ("target", target),
            ("datname", values[0].as_str()),
            ("state", values[1].as_str()),
            ("usename", values[2].as_str()),
            ("application_name", values[3].as_str()),
            ("backend_type", values[4].as_str()),
            ("wait_event_type", values[5].as_str()),
            ("wait_event", values[6].as_str()),
        ];
        exp.gauge(
            "pg_stat_activity_count",
            "Backends of pg_stat_activity per database and state (every database x state, 0 when none), \
             counted as postgres_exporter counts them: autovacuum and parallel workers included, pgconn's \
             own backend left out; see pgconn_used_slots for the slots in use",
            &labels,
            a.count as f64,
        );
        exp.gauge(
            "pg_stat_activity_max_tx_duration",
            "Age in seconds of the oldest transaction per pg_stat_activity_count row (0 when none; \
             postgres_exporter's name)",
            &labels,
            a.max_tx_duration,
        );
    }
}

/// The exposition of several targets' status: the gauges of each report, and for a target that failed
/// `pgconn_up 0` and `pgconn_scrape_error` with the failure's kind.
pub fn status(results: &[(&str, Result<&StatusReport, FailureKind>)]) -> String {
    let mut exp = Exposition::new();
    for (target, r) in results {
        match r {
            Ok(r) => status_metrics(&mut exp, target, r),
            Err(kind) => failed(&mut exp, target, *kind),
        }
    }
    exp.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("two\nlines"), "two\\nlines");
        assert_eq!(escape_label_value("plain-ünïcode"), "plain-ünïcode");
        assert_eq!(escape_help("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
    }

    #[test]
    fn values_use_the_formats_spelling() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(12.345), "12.345");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
    }

    #[test]
    fn counters_are_typed_as_counters_and_never_share_a_gauges_family() {
        let mut e = Exposition::new();
        e.counter(
            "pgconn_sessions_started_total",
            "started",
            &[("target", "a"), ("datname", "x")],
            3.0,
        );
        e.gauge(
            "pgconn_sessions",
            "s",
            &[("target", "a"), ("state", "idle")],
            1.0,
        );
        let text = e.render();
        assert!(text.contains(
            "# TYPE pgconn_sessions_started_total counter\n\
             pgconn_sessions_started_total{target=\"a\",datname=\"x\"} 3\n"
        ));
        assert!(text.contains("# TYPE pgconn_sessions gauge\n"));
        // Every counter status_metrics writes: its family (the name without _total) is no gauge's name.
        let src = include_str!("prometheus.rs");
        let names = |kind: &str| -> Vec<String> {
            src.split(&format!("exp.{kind}(\n"))
                .skip(1)
                .filter_map(|rest| rest.split('"').nth(1).map(String::from))
                .collect()
        };
        let (counters, gauges) = (names("counter"), names("gauge"));
        assert_eq!(counters.len(), 6, "{counters:?}");
        for c in &counters {
            let family = c.strip_suffix("_total").expect("a counter ends in _total");
            assert!(
                !gauges.iter().any(|g| g == family),
                "{c} collides with gauge {family}"
            );
        }
    }

    #[test]
    fn families_are_contiguous_with_help_and_type() {
        let mut e = Exposition::new();
        up(&mut e, "a:5432/x", true);
        e.gauge(
            "pgconn_max_connections",
            "max",
            &[("target", "a:5432/x")],
            100.0,
        );
        up(&mut e, "b:5432/\"y\"", false);
        let text = e.render();
        assert_eq!(
            text,
            "# HELP pgconn_up 1 when the target was connected to and queried, 0 when it failed\n\
             # TYPE pgconn_up gauge\n\
             pgconn_up{target=\"a:5432/x\"} 1\n\
             pgconn_up{target=\"b:5432/\\\"y\\\"\"} 0\n\
             # HELP pg_up Whether the last scrape of the server succeeded (postgres_exporter's name; \
             the same as pgconn_up)\n\
             # TYPE pg_up gauge\n\
             pg_up{target=\"a:5432/x\"} 1\n\
             pg_up{target=\"b:5432/\\\"y\\\"\"} 0\n\
             # HELP pgconn_max_connections max\n\
             # TYPE pgconn_max_connections gauge\n\
             pgconn_max_connections{target=\"a:5432/x\"} 100\n"
        );
    }

    #[test]
    fn the_scrape_error_help_names_every_kind_in_order() {
        let listed = SCRAPE_ERROR_HELP.split_once("why: ").unwrap().1;
        let keys: Vec<&str> = FailureKind::ALL.iter().map(|k| k.key()).collect();
        assert_eq!(listed, keys.join(", "));
    }

    #[test]
    fn a_failed_target_says_why() {
        let text = status(&[("a:1/x", Err(FailureKind::Full))]);
        assert_eq!(
            text,
            "# HELP pgconn_up 1 when the target was connected to and queried, 0 when it failed\n\
             # TYPE pgconn_up gauge\n\
             pgconn_up{target=\"a:1/x\"} 0\n\
             # HELP pg_up Whether the last scrape of the server succeeded (postgres_exporter's name; \
             the same as pgconn_up)\n\
             # TYPE pg_up gauge\n\
             pg_up{target=\"a:1/x\"} 0\n\
             # HELP pgconn_scrape_error 1 for a target that could not be collected, with why: full, \
             reserved_only, role_limit, database_limit, wal_senders_full, unreachable, refused, timeout, \
             query, invalid\n\
             # TYPE pgconn_scrape_error gauge\n\
             pgconn_scrape_error{target=\"a:1/x\",kind=\"full\"} 1\n"
        );
    }

    #[test]
    fn exposition_parses_with_a_real_parser() {
        let mut e = Exposition::new();
        up(&mut e, "h:1/d", true);
        e.gauge(
            "pgconn_group_sessions",
            "groups",
            &[("target", "h:1/d"), ("application", "my app")],
            7.0,
        );
        e.gauge(
            "pgconn_oldest_idle_seconds",
            "age",
            &[("target", "h:1/d")],
            1.5,
        );
        let text = e.render();
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        assert_eq!(scrape.samples.len(), 4);
        let g = scrape
            .samples
            .iter()
            .find(|s| s.metric == "pgconn_group_sessions")
            .unwrap();
        assert_eq!(g.labels.get("application"), Some("my app"));
        assert_eq!(g.value, prometheus_parse::Value::Gauge(7.0));
        assert_eq!(scrape.docs["pgconn_oldest_idle_seconds"], "age");
    }
}
