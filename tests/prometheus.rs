//! `pgconn exporter` read by the programs that read it in production, each against a throwaway cluster
//! that looks like the sandbox (max_connections 100, 3 reserved, 40 idle `leaky-worker` sessions, 2
//! active, 2 idle in transaction):
//!
//! - a real Prometheus (Debian's `prometheus` package) started from the README's configuration snippet,
//!   scraping the exporter by `/metrics` and by `/probe`, with the shipped rules: the counts it stores
//!   are the server's, `PgconnLeakSuspect` fires, and every panel of the shipped dashboard evaluates;
//! - Debian's postgres_exporter (0.11.1) against the same kind of server: both count the same
//!   `pg_stat_activity_count` per database and state.

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::exporter::{get, path, Exporter};
use support::{pgconn, start_cluster, Cluster, ClusterOptions, Workload};

const README: &str = "README.md";
const RULES: &str = "monitoring/prometheus/pgconn.rules.yml";
const DASHBOARD: &str = "monitoring/grafana/pgconn.json";

/// The application_name of the exporter's own backend.
const EXPORTER_APP: &str = "pgconn-exporter";

/// How long anything that depends on scrapes and rule evaluations may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(180);

fn read(rel: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// A process of the test's own, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port of 127.0.0.1 nobody listens on now (the caller retries when it is taken before it binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The sandbox's server and workload (`pgconn sandbox`'s defaults): max_connections 100, 3 slots
/// reserved for superusers, role `app` and database `appdb`, 40 idle sessions of `leaky-worker`, 2 of
/// `report-job` running a long query, 2 of `billing-api` idle in transaction.
fn sandbox_like(conf: &[(&str, &str)]) -> (Cluster, Workload) {
    let c = start_cluster(&ClusterOptions {
        max_connections: 100,
        superuser_reserved_connections: Some(3),
        tcp: true,
        conf: conf
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    c.psql("CREATE DATABASE appdb OWNER app").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 40, "app", "appdb", "leaky-worker").unwrap();
    w.active(&c, 2, "app", "appdb", "report-job", 3600).unwrap();
    w.idle_in_transaction(&c, 2, "app", "appdb", "billing-api")
        .unwrap();
    (c, w)
}

/// Idle leaky-worker sessions, as the server itself counts them.
fn leaky_idle(c: &Cluster) -> i64 {
    support::ground_truth_count(
        c,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leaky-worker' AND state = 'idle'",
    )
}

// ---------------------------------------------------------------------------------------------------
// Prometheus.

/// A `prometheus` server of the test's own: its configuration, rules and storage in a temporary
/// directory, listening on a free port of 127.0.0.1.
struct Prometheus {
    // Declared first so that it ends before its directory is removed.
    _process: Running,
    port: u16,
    dir: tempfile::TempDir,
}

/// One sample of an instant vector: its labels and value.
type Sample = (BTreeMap<String, String>, f64);

impl Prometheus {
    /// Start it with `config` (which names `rules.yml` in the directory) and `rules`; returns once it
    /// answers /-/ready.
    fn start(config: &str, rules: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let rules_file = dir.path().join("rules.yml");
        std::fs::write(&rules_file, rules).unwrap();
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(
            &config_file,
            config.replace("RULES_FILE", &path(&rules_file)),
        )
        .unwrap();
        let log = dir.path().join("prometheus.log");
        // A free port can be taken between the look and the bind: a few tries.
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("prometheus")
                .arg(format!("--config.file={}", path(&config_file)))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    path(&dir.path().join("data"))
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn();
            let mut process = match child {
                Ok(c) => Running(c),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                    "\n\nthis test needs the Prometheus server, from Debian's prometheus package: \
                     apt-get install prometheus (.ci/run installs it)\n\n"
                ),
                Err(e) => panic!("starting prometheus: {e}"),
            };
            let deadline = Instant::now() + PATIENCE;
            loop {
                if let Some(status) = process.0.try_wait().unwrap() {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    if text.contains("address already in use") {
                        break;
                    }
                    panic!("prometheus exited ({status}) before it was ready:\n{text}");
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && get(port, "/-/ready").status == 200
                {
                    return Prometheus {
                        _process: process,
                        port,
                        dir,
                    };
                }
                assert!(
                    Instant::now() < deadline,
                    "prometheus was not ready within {PATIENCE:?}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        panic!("prometheus found no free port in five tries");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// GET an API path; its `data`, or the error Prometheus answered with.
    fn api(&self, path_and_query: &str) -> Result<serde_json::Value, String> {
        let r = get(self.port, path_and_query);
        let json: serde_json::Value = serde_json::from_str(&r.body)
            .map_err(|e| format!("{path_and_query}: HTTP {} {e}: {}", r.status, r.body))?;
        if r.status == 200 && json["status"] == "success" {
            Ok(json["data"].clone())
        } else {
            Err(format!(
                "HTTP {}: {} {}",
                r.status, json["errorType"], json["error"]
            ))
        }
    }

    /// Evaluate an expression now through /api/v1/query: its samples (a scalar is one sample without
    /// labels), or the error Prometheus gave.
    fn query(&self, expr: &str) -> Result<Vec<Sample>, String> {
        let data = self.api(&format!("/api/v1/query?query={}", encode(expr)))?;
        let number = |v: &serde_json::Value| -> f64 {
            v[1].as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN)
        };
        Ok(match data["resultType"].as_str() {
            Some("vector") => data["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let labels = s["metric"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect();
                    (labels, number(&s["value"]))
                })
                .collect(),
            Some("scalar") => vec![(BTreeMap::new(), number(&data["result"]))],
            other => return Err(format!("{expr}: a result of type {other:?}")),
        })
    }

    /// Poll `expr` until `accept` takes its samples (at most [`PATIENCE`]); those samples.
    fn query_until(&self, expr: &str, accept: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.query(expr);
            if let Ok(samples) = &got {
                if accept(samples) {
                    return samples.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "{expr} never gave what was expected within {PATIENCE:?}; last: {got:?}\n--- targets\n{}\
                 \n--- prometheus's log\n{}",
                self.api("/api/v1/targets")
                    .map(|d| d.to_string())
                    .unwrap_or_else(|e| e),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Percent-encoding of a query parameter's value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The README's Prometheus configuration (the `yaml` block after "A Prometheus configuration for both
/// ways"), as printed.
fn readme_scrape_configs() -> String {
    let readme = read(README);
    let at = readme
        .find("A Prometheus configuration for both ways")
        .expect("the README's exporter section shows a Prometheus configuration");
    let block = &readme[at..];
    let start = block.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start
        + block[start..]
            .find("```")
            .expect("the end of the yaml block");
    block[start..end].to_string()
}

/// `text` with every `from` replaced by `to`; panics unless `from` occurs `times` times (so that a
/// changed README snippet is noticed, not silently left unsubstituted).
fn substitute(text: &str, from: &str, to: &str, times: usize) -> String {
    assert_eq!(
        text.matches(from).count(),
        times,
        "{from:?} should occur {times} times in:\n{text}"
    );
    text.replace(from, to)
}

/// The shipped rules with every `for:` shortened to one second, so that an alert the data makes true
/// is pending within a few evaluations and firing right after.
fn rules_with_short_for() -> String {
    let rules = read(RULES);
    let mut shortened = 0;
    let out: Vec<String> = rules
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for: ") {
            Some(_) => {
                shortened += 1;
                format!("{}for: 1s", &l[..l.len() - l.trim_start().len()])
            }
            None => l.to_string(),
        })
        .collect();
    assert!(shortened >= 5, "{RULES} has {shortened} `for:` lines");
    out.join("\n") + "\n"
}

/// The dashboard's queries as (panel title, refId, expression).
fn dashboard_queries() -> Vec<(String, String, String)> {
    let d: serde_json::Value = serde_json::from_str(&read(DASHBOARD)).unwrap();
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                p["title"].as_str().unwrap_or("").to_string(),
                t["refId"].as_str().unwrap_or("").to_string(),
                t["expr"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

/// An expression with Grafana's variables as Grafana substitutes them with "All" selected (the
/// variables' `allValue` is `.+`) and a 1 s scrape interval: `$__rate_interval` is then
/// max(4 × scrape interval, $__interval + scrape interval), well under a minute. Every form Grafana
/// accepts (`$x`, `${x}`, `[[x]]`) is replaced; a variable it does not know is left, and fails the test.
fn grafana_substituted(expr: &str) -> String {
    // Longest names first: $__interval is a prefix of $__interval_ms.
    let vars = [
        ("__rate_interval", "4s"),
        ("__interval_ms", "1000"),
        ("__interval", "1s"),
        ("__range_s", "300"),
        ("__range_ms", "300000"),
        ("__range", "5m"),
        ("datasource", "prometheus"),
        ("instance", ".+"),
        ("job", ".+"),
    ];
    let mut out = expr.to_string();
    for (name, value) in vars {
        for form in [
            format!("${{{name}}}"),
            format!("[[{name}]]"),
            format!("${name}"),
        ] {
            out = out.replace(&form, value);
        }
    }
    out
}

fn label<'a>(s: &'a Sample, name: &str) -> &'a str {
    s.0.get(name).map(String::as_str).unwrap_or("")
}

/// The scrape targets Prometheus runs from the README's snippet, as (job, instance), sorted.
fn targets_of(samples: &[Sample]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = samples
        .iter()
        .map(|s| {
            (
                label(s, "job").to_string(),
                label(s, "instance").to_string(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The Done-when of the Prometheus integration: a Prometheus started from the README's snippet scrapes
/// `pgconn exporter` by `/metrics` and by `/probe` (by a configured host:port and by a target's name),
/// stores the sandbox leak under postgres_exporter's name and pgconn's, fires the shipped
/// `PgconnLeakSuspect` rule with annotations that name the culprit, and every panel of the shipped
/// dashboard evaluates.
#[test]
fn prometheus_scrapes_metrics_and_probe_from_the_readme_config_and_fires_the_leak_rule() {
    let (c, _w) = sandbox_like(&[]);
    let pg = c.tcp_port().unwrap();
    // The README snippet's `reporting`, a target's name: `NAME: CONNINFO` in the targets file.
    let e = Exporter::start_with(
        pgconn().env_cluster(&c),
        &[format!(
            "reporting: host=127.0.0.1 port={pg} user={} dbname=postgres sslmode=disable \
             application_name={EXPORTER_APP}",
            c.superuser()
        )],
        &[],
    );
    let exporter = format!("127.0.0.1:{}", e.port);
    let db = format!("127.0.0.1:{pg}");

    // The README's snippet as printed, with this machine's addresses for the exporter (the static
    // target and the /probe job's replacement) and for the server (its `db1:5432`); `reporting` stays.
    let snippet = readme_scrape_configs();
    let snippet = substitute(&snippet, "127.0.0.1:8432", &exporter, 2);
    let snippet = substitute(&snippet, "db1:5432", &db, 1);
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - RULES_FILE\n{snippet}"
    );
    let p = Prometheus::start(&config, &rules_with_short_for());

    // The relabelling gives three targets, all up: the exporter's /metrics, and /probe of the server by
    // host:port and by name, each with the server as its instance.
    let mut wanted = vec![
        ("pgconn".to_string(), exporter.clone()),
        ("pgconn-probe".to_string(), db.clone()),
        ("pgconn-probe".to_string(), "reporting".to_string()),
    ];
    wanted.sort();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let data = p.api("/api/v1/targets").unwrap();
        let active = data["activeTargets"].as_array().unwrap().clone();
        let mut seen: Vec<(String, String)> = active
            .iter()
            .map(|t| {
                let l = &t["labels"];
                let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
                (s(&l["job"]), s(&l["instance"]))
            })
            .collect();
        seen.sort();
        let probes_go_to_the_exporter = active
            .iter()
            .filter(|t| t["labels"]["job"] == "pgconn-probe")
            .all(|t| {
                t["scrapeUrl"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(&format!("http://{exporter}/probe?target="))
            });
        if seen == wanted && probes_go_to_the_exporter && active.iter().all(|t| t["health"] == "up")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the targets were not {wanted:?}, all up, within {PATIENCE:?}: {data:#}\n{}",
            p.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // At least two scrapes of each.
    p.query_until("count_over_time(up[1h]) >= 2", |s| targets_of(s) == wanted);

    // postgres_exporter's name: each target's sum is the server's own count.
    let truth = leaky_idle(&c);
    assert_eq!(truth, 40);
    let idle = p.query_until(
        "sum by (job, instance) (pg_stat_activity_count{application_name=\"leaky-worker\",state=\"idle\"})",
        |s| targets_of(s) == wanted && s.iter().all(|x| x.1 == truth as f64),
    );
    eprintln!("sum(pg_stat_activity_count{{leaky-worker, idle}}) per job and instance: {idle:?}");
    // The brief form, one sum per job: the /metrics job has one target.
    p.query_until(
        "sum(pg_stat_activity_count{job=\"pgconn\",application_name=\"leaky-worker\",state=\"idle\"})",
        |s| s.len() == 1 && s[0].1 == truth as f64,
    );

    // pgconn's own families: the leak suspect, with its culprit labels and idle sessions.
    let suspects = p.query_until("pgconn_leak_suspect == 1", |s| targets_of(s) == wanted);
    for s in &suspects {
        assert_eq!(label(s, "application"), "leaky-worker", "{s:?}");
        assert_eq!(label(s, "user"), "app", "{s:?}");
        assert_eq!(label(s, "database"), "appdb", "{s:?}");
        // /metrics labels the server `target` (the targets file's name); /probe does not.
        let target = if label(s, "job") == "pgconn" {
            "reporting"
        } else {
            ""
        };
        assert_eq!(label(s, "target"), target, "{s:?}");
    }
    p.query_until(
        "pgconn_leak_suspect_idle_sessions{application=\"leaky-worker\"}",
        |s| targets_of(s) == wanted && s.iter().all(|x| x.1 == truth as f64),
    );

    // The shipped rule, `for:` shortened: pending or firing for every target, and once firing its
    // annotations name the culprit and count its sessions through the rule's own template queries,
    // with and without a target label.
    p.query_until(
        "ALERTS{alertname=\"PgconnLeakSuspect\",alertstate=~\"pending|firing\",application=\"leaky-worker\"}",
        |s| targets_of(s) == wanted,
    );
    let deadline = Instant::now() + PATIENCE;
    let firing = loop {
        let alerts = p.api("/api/v1/alerts").unwrap()["alerts"].clone();
        let firing: Vec<serde_json::Value> = alerts
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == "PgconnLeakSuspect" && a["state"] == "firing")
            .cloned()
            .collect();
        if firing.len() == wanted.len() {
            break firing;
        }
        assert!(
            Instant::now() < deadline,
            "PgconnLeakSuspect did not fire for {wanted:?}: {alerts:#}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for a in &firing {
        let summary = a["annotations"]["summary"].as_str().unwrap();
        let description = a["annotations"]["description"].as_str().unwrap();
        assert!(
            summary.contains("application \"leaky-worker\" (user app, database appdb)"),
            "{summary}"
        );
        assert!(
            description.contains(&format!("it holds {truth} idle sessions")),
            "{description}"
        );
        assert!(
            description.contains("pgconn kill-idle --db 'appdb' --user 'app' --app 'leaky-worker'"),
            "{description}"
        );
    }

    // Every panel of the dashboard evaluates without error, with Grafana's variables substituted; the
    // leak panel shows the suspect of every target.
    let queries = dashboard_queries();
    assert!(queries.len() >= 10, "{queries:?}");
    for (title, r, expr) in &queries {
        let expr = grafana_substituted(expr);
        assert!(
            !expr.contains('$') && !expr.contains("[["),
            "{title} {r}: a variable this test does not know: {expr}"
        );
        if let Err(err) = p.query(&expr) {
            panic!("dashboard panel {title:?} {r}: {expr}\n  {err}");
        }
        if title == "Leak suspects" {
            let rows = p.query_until(&expr, |s| targets_of(s) == wanted);
            assert!(
                rows.iter()
                    .all(|s| label(s, "application") == "leaky-worker" && s.1 == truth as f64),
                "{rows:?}"
            );
        }
    }
    assert!(
        queries.iter().any(|(t, _, _)| t == "Leak suspects"),
        "no leak panel"
    );

    // The postgres-mixin's PostgreSQLHighConnections and pgconn's PgconnSlotsLow on the same server
    // (the README's "Rules and dashboard" quotes one pair of these): each side of each comparison.
    let by = "job, instance, server";
    let mixin_used = format!("sum by ({by}) (pg_stat_activity_count)");
    let mixin_limit = format!(
        "(sum by ({by}) (pg_settings_max_connections) - sum by ({by}) \
         (pg_settings_superuser_reserved_connections)) * 0.8"
    );
    let pgconn_left = "pgconn_slots_left / pgconn_usable_slots";
    let all = |s: &[Sample]| targets_of(s) == wanted;
    let used = p.query_until(&mixin_used, all);
    let limit = p.query_until(&mixin_limit, all);
    let left = p.query_until(pgconn_left, all);
    let parts = p.query_until("pgconn_slots_left", all);
    let usable = p.query_until("pgconn_usable_slots", all);
    let used_slots = p.query_until("pgconn_used_slots", all);
    for (job, instance) in &wanted {
        let of = |v: &[Sample]| {
            v.iter()
                .find(|s| label(s, "job") == job && label(s, "instance") == instance)
                .map(|s| s.1)
                .unwrap()
        };
        eprintln!(
            "{job} {instance}: postgres-mixin sum(pg_stat_activity_count) = {} > {:.1} ((max_connections - \
             superuser_reserved_connections) * 0.8)?  pgconn_slots_left / pgconn_usable_slots = {} / {} = \
             {:.3} < 0.2? (pgconn_used_slots {})",
            of(&used),
            of(&limit),
            of(&parts),
            of(&usable),
            of(&left),
            of(&used_slots)
        );
        assert!(of(&used) < of(&limit) && of(&left) > 0.2);
    }
    // Neither fires on this server (under half full): both rules' expressions evaluate to nothing.
    for expr in [
        format!("{mixin_used} > {mixin_limit}"),
        format!("{pgconn_left} < 0.2"),
    ] {
        assert_eq!(p.query(&expr), Ok(Vec::new()), "{expr}");
    }
}

// ---------------------------------------------------------------------------------------------------
// postgres_exporter.

/// The application_name postgres_exporter connects with (its DSN sets it), by which its backend is
/// told apart from everything else on the server.
const POSTGRES_EXPORTER_APP: &str = "pgconn-test-postgres-exporter";

/// Debian's postgres_exporter binary, if the package is installed.
fn postgres_exporter_binary() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/prometheus-postgres-exporter");
    if debian.exists() {
        return Some(debian);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("postgres_exporter"))
            .find(|p| p.exists())
    })
}

/// `sum by (datname, state) (pg_stat_activity_count)` of an exposition, leaving out the series
/// `skip` rejects.
fn sum_by_datname_state(
    text: &str,
    skip: impl Fn(&prometheus_parse::Sample) -> bool,
) -> BTreeMap<(String, String), f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    let mut out = BTreeMap::new();
    for s in scrape
        .samples
        .iter()
        .filter(|s| s.metric == "pg_stat_activity_count")
    {
        if skip(s) {
            continue;
        }
        let v = match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("pg_stat_activity_count is {other:?}"),
        };
        let key = (
            s.labels.get("datname").unwrap_or("").to_string(),
            s.labels.get("state").unwrap_or("").to_string(),
        );
        *out.entry(key).or_insert(0.0) += v;
    }
    out
}

/// Debian's postgres_exporter 0.11.1 (`datname, state` labels) and pgconn exporter scrape one server
/// with autovacuum off (autovacuum and parallel workers would come and go between two scrapes) and the
/// sandbox's sessions, plus sessions in a second database: their `sum by (datname, state)` of
/// `pg_stat_activity_count` is the same, every database × state included (zero rows too).
///
/// The exporters' own backends are left out of both. pgconn leaves its own out itself. postgres_exporter
/// 0.11 counts its own: it holds one connection between scrapes (database `postgres`, application_name
/// [`POSTGRES_EXPORTER_APP`] from its DSN: checked below on the server), and that backend runs the
/// statement, so it is in its own output as one `active` row of `postgres`, taken off here; pgconn sees
/// it too (idle, between postgres_exporter's scrapes), as the series with its application_name, left
/// out of pgconn's sum. pgconn's backend is open only during pgconn's scrape, which comes after
/// postgres_exporter's.
#[test]
fn pg_stat_activity_count_sums_match_debians_postgres_exporter() {
    let Some(binary) = postgres_exporter_binary() else {
        eprintln!(
            "skipped: no postgres_exporter (apt-get install prometheus-postgres-exporter, which .ci/run \
             does)"
        );
        return;
    };
    let (c, mut w) = sandbox_like(&[("autovacuum", "off")]);
    // A second database with rows: sessions of the superuser in `postgres`.
    w.idle(&c, 3, c.superuser(), "postgres", "ops-console")
        .unwrap();
    w.idle_in_transaction(&c, 1, c.superuser(), "postgres", "ops-console")
        .unwrap();

    let e = Exporter::start_with(
        pgconn().env_cluster(&c),
        &[format!(
            "main: {} application_name={EXPORTER_APP}",
            c.conninfo(c.superuser(), "postgres")
        )],
        &[],
    );

    // postgres_exporter through the same unix socket; its collectors other than the legacy queries
    // (database sizes, bgwriter) are off: each would hold a connection of its own.
    let dsn = format!(
        "host={} port={} user={} dbname=postgres sslmode=disable application_name={POSTGRES_EXPORTER_APP}",
        c.socket_dir().display(),
        c.port(),
        c.superuser()
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgres_exporter.log");
    let pe_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut pe = None;
    // A free port can be taken between the look and the bind: a few tries.
    for _ in 0..5 {
        let port = free_port();
        let mut child = Running(
            Command::new(&binary)
                .env_clear()
                .env("DATA_SOURCE_NAME", &dsn)
                .args([
                    format!("--web.listen-address=127.0.0.1:{port}"),
                    "--no-collector.database".to_string(),
                    "--no-collector.bgwriter".to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display())),
        );
        let deadline = Instant::now() + PATIENCE;
        while child.0.try_wait().unwrap().is_none()
            && std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        {
            assert!(
                Instant::now() < deadline,
                "postgres_exporter did not listen:\n{}",
                pe_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        if child.0.try_wait().unwrap().is_none() {
            pe = Some((child, port));
            break;
        }
    }
    let (_pe, pe_port) = pe.unwrap_or_else(|| {
        panic!(
            "postgres_exporter did not start in five tries:\n{}",
            pe_log()
        )
    });

    let deadline = Instant::now() + PATIENCE;
    let mut attempts = 0;
    let (theirs, ours) = loop {
        attempts += 1;
        let r = get(pe_port, "/metrics");
        assert_eq!(r.status, 200, "{r:?}\n{}", pe_log());
        assert!(
            r.body.contains("\npg_up 1\n"),
            "postgres_exporter is not connected:\n{}\n{}",
            r.body,
            pe_log()
        );
        let mut theirs = sum_by_datname_state(&r.body, |_| false);
        // Its own backend, running the statement: one active session in `postgres` at least.
        let own = theirs
            .get_mut(&("postgres".to_string(), "active".to_string()))
            .unwrap_or_else(|| {
                panic!(
                    "postgres_exporter has no (postgres, active) row:\n{}",
                    r.body
                )
            });
        assert!(
            *own >= 1.0,
            "postgres_exporter did not count itself:\n{}",
            r.body
        );
        *own -= 1.0;
        let m = e.get("/metrics");
        let ours = sum_by_datname_state(&m.body, |s| {
            s.labels.get("application_name") == Some(POSTGRES_EXPORTER_APP)
        });
        if theirs == ours && !ours.is_empty() {
            break (theirs, ours);
        }
        let last = format!(
            "postgres_exporter (its own backend taken off): {theirs:?}\npgconn: {ours:?}\n\
             --- postgres_exporter\n{}\n--- pgconn\n{}\n--- postgres_exporter's log\n{}",
            r.body,
            m.body,
            pe_log()
        );
        assert!(
            Instant::now() < deadline,
            "the sums never agreed within {PATIENCE:?}:\n{last}"
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    eprintln!(
        "sum by (datname, state) (pg_stat_activity_count), both exporters (attempt {attempts}): {ours:?}"
    );

    // What the comparison stands on: postgres_exporter has exactly one backend, in `postgres`, found by
    // its application_name; the sums saw the sessions the server has; every database × state is there.
    let mut su = support::superuser_client(&c);
    let pe_backends: Vec<(Option<String>, i64)> = su
        .query(
            "SELECT datname::text, count(*) FROM pg_stat_activity WHERE application_name = $1 \
             GROUP BY datname",
            &[&POSTGRES_EXPORTER_APP],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(pe_backends, vec![(Some("postgres".to_string()), 1)]);
    let at = |db: &str, state: &str| theirs.get(&(db.to_string(), state.to_string())).copied();
    assert_eq!(at("appdb", "idle"), Some(40.0));
    assert_eq!(at("appdb", "active"), Some(2.0));
    assert_eq!(at("appdb", "idle in transaction"), Some(2.0));
    assert_eq!(at("postgres", "idle"), Some(3.0));
    assert_eq!(at("postgres", "idle in transaction"), Some(1.0));
    let databases: Vec<String> = su
        .query("SELECT datname::text FROM pg_database", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ours.len(), databases.len() * 6, "{ours:?}");
}
