//! The monitoring files shipped in `monitoring/`, checked with the tools that will read them: the
//! Prometheus rules with `promtool check rules` and `promtool test rules` (input series copied from
//! pgconn's own output for a throwaway cluster with a leak), the Grafana dashboard's structure and every
//! panel's expression against those series, the systemd unit with `systemd-analyze verify`; and
//! `promtool check metrics` on what `status` and `check` print.
//!
//! The rules' input series are generated: `UPDATE_MONITORING=1 cargo test --test monitoring` rewrites
//! them in the committed test file from a fresh run; review the diff and the expected alerts after it.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{pgconn, start_cluster, ClusterOptions, Workload};

const RULES: &str = "monitoring/prometheus/pgconn.rules.yml";
const RULES_TEST: &str = "monitoring/prometheus/tests/pgconn.rules.test.yml";
const DASHBOARD: &str = "monitoring/grafana/pgconn.json";
const UNIT: &str = "monitoring/systemd/pgconn-exporter.service";

/// The dashboard's uid: links and provisioned copies find it by this, so it never changes by accident.
const DASHBOARD_UID: &str = "pgconn-overview";

/// Problems `promtool check metrics` may report on pgconn's output without failing the test, each with
/// the reason it is acceptable. Every pgconn_* family is a gauge with HELP, TYPE and a unit in its name;
/// the one exception is a name pgconn does not choose.
const ACCEPTED_LINT: &[&str] = &[
    // postgres_exporter's name, kept exactly so that the rules and dashboards written for it read pgconn
    // (the lint asks gauges not to end in _count; postgres_exporter's own output draws the same line).
    "pg_stat_activity_count non-histogram and non-summary metrics should not have \"_count\" suffix",
];

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Run a monitoring tool (promtool, systemd-analyze) with `stdin`, at most two minutes; `None` when it
/// is not installed.
fn tool(program: &str, args: &[&str], stdin: &str) -> Option<support::Output> {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("running {program}: {e}"),
    };
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(stdin.as_bytes());
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{program} {args:?} ran longer than two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = writer.join();
    let out = child.wait_with_output().unwrap();
    Some(support::Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// promtool, which these tests need: they fail with the install hint when it is missing.
fn promtool(args: &[&str], stdin: &str) -> support::Output {
    tool("promtool", args, stdin).unwrap_or_else(|| {
        panic!(
            "\n\nthese tests need promtool, from the Prometheus package: apt-get install prometheus \
             (.ci/run installs it)\n\n"
        )
    })
}

fn assert_promtool_ok(what: &str, out: &support::Output) {
    assert_eq!(
        out.status, 0,
        "promtool {what} failed:\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
}

// ---------------------------------------------------------------------------------------------------
// The scenario: pgconn's own output for a throwaway cluster with a leak, in three stages.

/// The stages, in order, and how many one-minute samples each lasts in the rules' input series.
const STAGES: [(&str, usize); 3] = [
    // The sandbox's workload on a server with 55 slots: 40 idle leaky-worker sessions (a leak
    // suspect), 2 active, 2 idle in transaction; 7 of 52 usable slots left.
    ("leak", 20),
    // leaky-worker took every slot ordinary roles can use; pgconn is in a reserved one.
    ("usable slots gone", 10),
    // Superuser sessions took the reserved slots too: pgconn is refused, "sorry, too many clients".
    ("full", 10),
];

struct Scenario {
    /// The server's major version.
    major: u32,
    /// The cluster's `target` label.
    target: String,
    /// `status --format prometheus` at each stage.
    status: Vec<String>,
    /// `check --format prometheus` at the first stage.
    check: String,
    /// Idle leaky-worker sessions, as pg_stat_activity counts them at the first stage.
    leaky_idle: i64,
}

/// `pgconn_used_slots` of an exposition with one target.
fn used_slots(text: &str) -> Option<i64> {
    text.lines()
        .find(|l| l.starts_with("pgconn_used_slots{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Run `status` until it counts exactly `used` slots: the workload and pgconn itself. A backend that
/// has just ended (psql's, an earlier pgconn's) may hold its slot a moment longer.
fn settled(c: &support::Cluster, used: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = pgconn()
            .env_cluster(c)
            .args(["status", "--format", "prometheus"])
            .assert_code(0)
            .stdout;
        if used_slots(&out) == Some(used as i64) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "the server never settled at {used} used slots:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn scenario() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(|| {
        let c = start_cluster(&ClusterOptions {
            max_connections: 55,
            superuser_reserved_connections: Some(3),
            ..ClusterOptions::default()
        });
        c.psql("CREATE ROLE app LOGIN").unwrap();
        c.psql("CREATE DATABASE appdb OWNER app").unwrap();
        let mut w = Workload::new();
        w.idle(&c, 40, "app", "appdb", "leaky-worker").unwrap();
        w.active(&c, 2, "app", "appdb", "report-job", 3600).unwrap();
        w.idle_in_transaction(&c, 2, "app", "appdb", "billing-api")
            .unwrap();

        let leak = settled(&c, w.len() + 1);
        // 45 of 52 usable slots is past check's 80%: WARNING.
        let check = pgconn()
            .env_cluster(&c)
            .args(["check", "--format", "prometheus"])
            .assert_code(1)
            .stdout;
        let leaky_idle = support::ground_truth_count(
            &c,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leaky-worker' \
             AND state = 'idle'",
        );

        // Twice: a slot the ground-truth psql has just left may be counted as taken the first time.
        for _ in 0..2 {
            let (_, refusal) = w.fill(&c, "app", "appdb", "leaky-worker").unwrap();
            assert!(refusal.contains("reserved"), "{refusal}");
            std::thread::sleep(Duration::from_millis(300));
        }
        let gone = settled(&c, w.len() + 1);

        let deadline = Instant::now() + Duration::from_secs(60);
        let full = loop {
            let (_, refusal) = w.fill(&c, c.superuser(), "appdb", "runaway-admin").unwrap();
            assert_eq!(refusal, "sorry, too many clients already");
            let out = pgconn()
                .env_cluster(&c)
                .args(["status", "--format", "prometheus", "--break-glass", "never"])
                .run();
            if out.status == 1 && out.stdout.contains("kind=\"full\"") {
                break out.stdout;
            }
            assert!(
                Instant::now() < deadline,
                "pgconn was never refused as by a full server: exit {}\n{}\n{}",
                out.status,
                out.stdout,
                out.stderr
            );
            std::thread::sleep(Duration::from_millis(300));
        };

        Scenario {
            major: c.version_num() / 10000,
            target: format!("{}:{}/postgres", c.socket_dir().display(), c.port()),
            status: vec![leak, gone, full],
            check,
            leaky_idle,
        }
    })
}

// ---------------------------------------------------------------------------------------------------
// The rules' input series, generated from the scenario.

/// The target label in the input series (the cluster's own is a temporary socket directory).
const FIXTURE_TARGET: &str = "db1:5432/postgres";

/// The two ways pgconn's series reach Prometheus, as (job, instance, with a target label): scraped from
/// `/metrics` or from a textfile through node_exporter (every series labelled `target`, `instance` the
/// exporter), and from `/probe` (no `target`; the relabelling sets `instance` to the server).
const COPIES: [(&str, &str, bool); 2] = [
    ("node", "monitor1:9100", true),
    ("pgconn-probe", "db1:5432", false),
];

const BEGIN: &str = "      # BEGIN generated input series";
const END: &str = "      # END generated input series";

/// Ages grow with the clock between two scrapes rather than staying what one run printed.
fn is_age(family: &str) -> bool {
    family.contains("oldest")
}

/// The samples of an exposition of one target: (family, labels other than `target` as printed, value).
fn samples(text: &str, target: &str) -> Vec<(String, String, String)> {
    let target_label = format!("target=\"{target}\"");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            let (family, labels) = match series.split_once('{') {
                Some((f, rest)) => (f, rest.strip_suffix('}').unwrap()),
                None => (series, ""),
            };
            let rest = labels
                .strip_prefix(target_label.as_str())
                .unwrap_or_else(|| panic!("{l:?} has no {target_label} first"));
            let rest = rest.strip_prefix(',').unwrap_or(rest);
            (family.to_string(), rest.to_string(), value.to_string())
        })
        .collect()
}

/// The generated block of input series, between the BEGIN and END lines.
fn input_series(s: &Scenario) -> String {
    // Every series of every stage, in the order first printed, with its value at each stage.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut values: BTreeMap<(String, String), Vec<Option<String>>> = BTreeMap::new();
    for (i, text) in s.status.iter().enumerate() {
        for (family, labels, value) in samples(text, &s.target) {
            let key = (family, labels);
            if !values.contains_key(&key) {
                order.push(key.clone());
            }
            values
                .entry(key)
                .or_insert_with(|| vec![None; STAGES.len()])[i] = Some(value);
        }
    }
    let mut out = format!(
        "{BEGIN} (UPDATE_MONITORING=1 cargo test --test monitoring).\n\
         \x20     # Copied from `pgconn status --format prometheus` on PostgreSQL {} (tests/monitoring.rs's\n\
         \x20     # scenario), one sample a minute: {}.\n\
         \x20     # The target label is {FIXTURE_TARGET}; ages start from the printed value, in whole\n\
         \x20     # minutes, and grow with the clock.\n",
        s.major,
        STAGES
            .iter()
            .scan(0, |start, (name, n)| {
                let text = format!("{}m-{}m {name}", *start, *start + n - 1);
                *start += n;
                Some(text)
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (job, instance, with_target) in COPIES {
        for key in &order {
            let (family, labels) = key;
            let mut all = format!("job=\"{job}\",instance=\"{instance}\"");
            if with_target {
                all.push_str(&format!(",target=\"{FIXTURE_TARGET}\""));
            }
            if !labels.is_empty() {
                all.push(',');
                all.push_str(labels);
            }
            let mut segments = Vec::new();
            let mut minute = 0usize;
            let mut age_base: Option<(usize, i64)> = None;
            let mut before: Option<&String> = None;
            for (stage, (_, n)) in values[key].iter().zip(STAGES) {
                segments.push(match stage {
                    Some(v) if is_age(family) => {
                        let (m0, base) = *age_base.get_or_insert_with(|| {
                            let printed: f64 = v.parse().unwrap();
                            (minute, (printed / 60.0).floor() as i64 * 60)
                        });
                        format!("{}+60x{}", base + 60 * (minute - m0) as i64, n - 1)
                    }
                    Some(v) => format!("{v}x{}", n - 1),
                    None if before.is_some() && n > 1 => format!("stale _x{}", n - 1),
                    None if before.is_some() => "stale".to_string(),
                    None => format!("_x{n}"),
                });
                before = stage.as_ref();
                minute += n;
            }
            out.push_str(&format!(
                "      - series: '{}'\n        values: '{}'\n",
                format!("{family}{{{all}}}").replace('\'', "''"),
                segments.join(" ")
            ));
        }
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The committed test file's generated block (BEGIN to END, both included) and where it is.
fn committed_block(file: &str) -> (usize, usize) {
    let start = file
        .find(BEGIN)
        .unwrap_or_else(|| panic!("{RULES_TEST} has no line starting {BEGIN:?}"));
    let end = file[start..]
        .find(END)
        .map(|i| start + i + END.len() + 1)
        .unwrap_or_else(|| panic!("{RULES_TEST} has no line starting {END:?}"));
    (start, end)
}

/// Families and their label names in a block of input series (the copy with a target label).
fn families(block: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in block.lines() {
        let Some(series) = line.trim().strip_prefix("- series: '") else {
            continue;
        };
        let series = series.strip_suffix('\'').unwrap().replace("''", "'");
        let scrape =
            prometheus_parse::Scrape::parse(std::iter::once(Ok(format!("{series} 0")))).unwrap();
        let sample = &scrape.samples[0];
        if sample.labels.get("target").is_none() {
            continue;
        }
        out.entry(sample.metric.clone()).or_default().extend(
            sample
                .labels
                .keys()
                .filter(|k| !matches!(k.as_str(), "job" | "instance"))
                .cloned(),
        );
    }
    out
}

/// The PostgreSQL major the committed series were generated on.
fn committed_major(block: &str) -> u32 {
    let at = block
        .find("on PostgreSQL ")
        .expect("the block names the major")
        + 14;
    block[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The committed input series still match the families pgconn prints (regenerated first with
/// UPDATE_MONITORING=1): every family and label the rules are tested on is one pgconn prints, and on
/// the major they were generated on, pgconn prints no family they lack.
#[test]
fn the_rules_input_series_match_what_pgconn_prints() {
    let s = scenario();
    let fresh = input_series(s);
    let file = read(RULES_TEST);
    let (start, end) = committed_block(&file);
    if std::env::var_os("UPDATE_MONITORING").is_some() {
        let updated = format!("{}{fresh}{}", &file[..start], &file[end..]);
        std::fs::write(path(RULES_TEST), updated).unwrap();
        return;
    }
    let committed = &file[start..end];
    let (was, now) = (families(committed), families(&fresh));
    let hint = "regenerate with UPDATE_MONITORING=1 cargo test --test monitoring, then review the \
                expected alerts in that file";
    for (family, labels) in &was {
        assert_eq!(
            now.get(family),
            Some(labels),
            "{RULES_TEST}'s input series have {family} with labels {labels:?}, pgconn prints {:?}; {hint}",
            now.get(family)
        );
    }
    if committed_major(committed) == s.major {
        let new: Vec<&String> = now.keys().filter(|f| !was.contains_key(*f)).collect();
        assert!(
            new.is_empty(),
            "pgconn prints {new:?}, which {RULES_TEST}'s input series lack; {hint}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// The rules.

#[test]
fn the_rules_pass_promtool_check_rules() {
    let out = promtool(&["check", "rules", path(RULES).to_str().unwrap()], "");
    assert_promtool_ok("check rules", &out);
    assert!(out.stdout.contains("SUCCESS"), "{}", out.stdout);
}

/// The rules' unit tests: pgconn's own series through every alert, for both the /metrics (and textfile)
/// labels and the /probe ones.
#[test]
fn the_rules_pass_their_promtool_unit_tests() {
    let out = promtool(&["test", "rules", path(RULES_TEST).to_str().unwrap()], "");
    assert_promtool_ok("test rules", &out);
}

/// pgconn metric names in a file (rules, dashboard).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("pgconn_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        names.insert(name);
        rest = &rest[at + 7..];
    }
    names
}

/// Every metric the rules and the dashboard read is one pgconn prints (per the committed series, which
/// the test above holds to pgconn's output): a rename cannot leave them reading nothing.
#[test]
fn the_rules_and_the_dashboard_read_metrics_pgconn_prints() {
    let file = read(RULES_TEST);
    let (start, end) = committed_block(&file);
    let printed = families(&file[start..end]);
    for rel in [RULES, DASHBOARD] {
        let read = metric_names(&read(rel));
        assert!(read.len() >= 5, "{rel}: {read:?}");
        let unknown: Vec<&String> = read.iter().filter(|n| !printed.contains_key(*n)).collect();
        assert!(
            unknown.is_empty(),
            "{rel} reads {unknown:?}, which pgconn does not print"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// pgconn's output.

fn assert_lint_clean(what: &str, text: &str) {
    let out = promtool(&["check", "metrics"], text);
    let problems: Vec<&str> = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !ACCEPTED_LINT.iter().any(|a| l.contains(a)))
        .collect();
    assert!(
        problems.is_empty() && (out.status == 0 || !ACCEPTED_LINT.is_empty()),
        "promtool check metrics on {what} (exit {}): {problems:#?}\n--- input\n{text}",
        out.status
    );
}

#[test]
fn status_and_check_output_pass_promtool_check_metrics() {
    let s = scenario();
    for (text, (stage, _)) in s.status.iter().zip(STAGES) {
        assert_lint_clean(&format!("status --format prometheus ({stage})"), text);
    }
    assert_lint_clean("check --format prometheus (leak)", &s.check);
    assert!(s.check.contains("pgconn_check_status{"), "{}", s.check);
}

/// The leak suspect gauges name the application, user and database, and count the idle sessions the
/// server counts; status and check print the same.
#[test]
fn leak_suspect_gauges_match_the_server() {
    let s = scenario();
    assert_eq!(s.leaky_idle, 40);
    for (what, text) in [("status", &s.status[0]), ("check", &s.check)] {
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        let of = |family: &str| -> Vec<&prometheus_parse::Sample> {
            scrape
                .samples
                .iter()
                .filter(|x| x.metric == family)
                .collect()
        };
        let suspects = of("pgconn_leak_suspect");
        assert_eq!(suspects.len(), 1, "{what}: one suspect\n{text}");
        let labels = &suspects[0].labels;
        assert_eq!(labels.get("target"), Some(s.target.as_str()));
        assert_eq!(labels.get("application"), Some("leaky-worker"));
        assert_eq!(labels.get("user"), Some("app"));
        assert_eq!(labels.get("database"), Some("appdb"));
        assert_eq!(suspects[0].value, prometheus_parse::Value::Gauge(1.0));
        let idle = of("pgconn_leak_suspect_idle_sessions");
        assert_eq!(idle.len(), 1, "{what}\n{text}");
        assert_eq!(idle[0].labels, suspects[0].labels);
        assert_eq!(
            idle[0].value,
            prometheus_parse::Value::Gauge(s.leaky_idle as f64),
            "{what}"
        );
        assert!(
            scrape.docs.contains_key("pgconn_leak_suspect")
                && text.contains("# TYPE pgconn_leak_suspect gauge\n")
                && text.contains("# TYPE pgconn_leak_suspect_idle_sessions gauge\n"),
            "{what}: HELP and TYPE\n{text}"
        );
    }
    // No suspect, no sample: a full server prints pgconn_up 0 and why, nothing else.
    assert!(!s.status[2].contains("pgconn_leak_suspect"));
}

// ---------------------------------------------------------------------------------------------------
// The dashboard.

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"))
}

/// (panel title, refId, expression) of every query of the dashboard.
fn panel_queries(d: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        let title = p["title"].as_str().expect("a panel title").to_string();
        let targets = p["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("{title}: targets"));
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            out.push((
                title.clone(),
                t["refId"].as_str().unwrap_or("").to_string(),
                t["expr"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

#[test]
fn the_dashboard_has_its_variables_a_stable_uid_and_a_query_in_every_panel() {
    let d = dashboard();
    assert_eq!(d["uid"], DASHBOARD_UID);
    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    let vars = d["templating"]["list"].as_array().expect("variables");
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    assert_eq!(var("job")["query"]["query"], "label_values(pgconn_up, job)");
    assert_eq!(
        var("instance")["query"]["query"],
        "label_values(pgconn_up{job=~\"$job\"}, instance)"
    );
    for name in ["job", "instance"] {
        assert_eq!(var(name)["datasource"]["uid"], "${datasource}");
    }

    let titles: Vec<&str> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Connection slots",
        "Sessions by state",
        "Top groups",
        "Leak suspects",
        "Oldest idle in transaction",
    ] {
        assert!(titles.contains(&wanted), "no panel {wanted:?}: {titles:?}");
    }
    let ids: BTreeSet<i64> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), titles.len(), "panel ids are unique");
    for p in d["panels"].as_array().unwrap() {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
    }
    for (title, r, expr) in panel_queries(&d) {
        assert!(!expr.trim().is_empty(), "{title} {r}: an empty expression");
        for selector in expr.match_indices("pgconn_").map(|(i, _)| &expr[i..]) {
            let selector = selector.split(['[', ')', ' ']).next().unwrap();
            assert!(
                selector.contains("job=~\"$job\",instance=~\"$instance\""),
                "{title} {r}: {selector} does not follow the variables"
            );
        }
        for range in expr.match_indices('[').map(|(i, _)| &expr[i..]) {
            assert!(
                range.starts_with("[$__rate_interval]"),
                "{title} {r}: a range other than $__rate_interval: {expr}"
            );
        }
    }
}

/// Every panel's expression, with the variables substituted as Grafana would (All selected), parses and
/// returns a series for pgconn's own series (the rules' input): the collection failures at the full
/// stage, everything else at the leak stage.
#[test]
fn every_dashboard_query_returns_series_for_pgconns_output() {
    let d = dashboard();
    let file = read(RULES_TEST);
    let (start, end) = committed_block(&file);
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut tests = String::new();
    for (i, (title, r, expr)) in panel_queries(&d).into_iter().enumerate() {
        let expr = expr
            .replace("$job", ".+")
            .replace("$instance", ".+")
            .replace("$__rate_interval", "5m");
        let name = format!("panel_{i}_{r}");
        rules.push_str(&format!(
            "      # {title}\n      - alert: {name}\n        expr: |\n          count({expr}) > 0\n"
        ));
        let at = if expr.contains("pgconn_scrape_error") {
            "35m"
        } else {
            "12m"
        };
        tests.push_str(&format!(
            "      - eval_time: {at}\n        alertname: {name}\n        exp_alerts:\n          - exp_labels: {{}}\n"
        ));
    }
    let rules_file = dir.path().join("dashboard.rules.yml");
    std::fs::write(&rules_file, rules).unwrap();
    let test_file = dir.path().join("dashboard.test.yml");
    std::fs::write(
        &test_file,
        format!(
            "rule_files:\n  - {}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{}    alert_rule_test:\n{tests}",
            rules_file.display(),
            &file[start..end]
        ),
    )
    .unwrap();
    let out = promtool(&["check", "rules", rules_file.to_str().unwrap()], "");
    assert_promtool_ok("check rules (the dashboard's queries)", &out);
    let out = promtool(&["test", "rules", test_file.to_str().unwrap()], "");
    assert_promtool_ok("test rules (the dashboard's queries)", &out);
}

// ---------------------------------------------------------------------------------------------------
// The systemd unit.

#[test]
fn the_systemd_unit_runs_the_exporter_confined_with_named_credentials() {
    let unit = read(UNIT);
    let lines: Vec<&str> = unit
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    for wanted in [
        "User=pgconn",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "Environment=PGPASSFILE=/etc/pgconn/pgpass",
        "Environment=PGSERVICEFILE=/etc/pgconn/pg_service.conf",
    ] {
        assert!(lines.contains(&wanted), "{UNIT} lacks {wanted}");
    }
    let exec = lines
        .iter()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    assert!(
        exec.starts_with("/usr/bin/pgconn exporter --targets /etc/pgconn/targets"),
        "{exec}"
    );
    // No secret on the command line or in the unit.
    assert!(!unit.to_lowercase().contains("password="), "{unit}");

    // systemd-analyze verify wants the program to exist: a copy that runs the binary just built. Its
    // documentation check (man pgconn) is left out: the man pages ship in man/, not installed here.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("pgconn-exporter.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/bin/pgconn", env!("CARGO_BIN_EXE_pgconn")),
    )
    .unwrap();
    let Some(out) = tool(
        "systemd-analyze",
        &["verify", "--man=no", copy.to_str().unwrap()],
        "",
    ) else {
        eprintln!(
            "skipped: systemd-analyze verify (systemd-analyze is not installed; apt-get install \
             systemd, which .ci/run does)"
        );
        return;
    };
    assert!(
        out.status == 0 && out.stdout.trim().is_empty() && out.stderr.trim().is_empty(),
        "systemd-analyze verify {UNIT} (exit {}):\n{}{}",
        out.status,
        out.stdout,
        out.stderr
    );
}
