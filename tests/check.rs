//! `pgconn check` and the Prometheus output against a real PostgreSQL: thresholds at and just past their
//! boundaries in all three forms, a full server, an unreachable target, the exposition parsed by a real
//! parser and compared with the server's numbers, and atomic `--output`.

mod support;

use std::time::Duration;

use prometheus_parse::{Scrape, Value};
use support::{cluster, pgconn, start_cluster, unique, Cluster, ClusterOptions, Workload};

/// A port on 127.0.0.1 nothing listens on.
fn scrape(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

/// Value of a sample whose labels include all of `labels`.
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            Value::Gauge(v) | Value::Untyped(v) | Value::Counter(v) => v,
            _ => panic!("{metric} is not a plain value"),
        })
}

fn setting(c: &Cluster, name: &str) -> i64 {
    support::ground_truth_count(c, &format!("SELECT current_setting('{name}')::int"))
}

/// With max_connections 10 and 2 reserved slots, 3 idle sessions plus the check itself use 4 of the 8
/// usable slots: 50%, 4 used, 4 left. Each form fires exactly at that boundary and not one step past it.
#[test]
fn capacity_thresholds_at_and_just_past_their_boundaries() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 10,
        superuser_reserved_connections: Some(2),
        ..ClusterOptions::default()
    });
    let mut w = Workload::new();
    w.idle(&c, 3, "postgres", "postgres", "filler").unwrap();

    let v = pgconn()
        .env_cluster(&c)
        .args(["check", "--format", "json"])
        .run()
        .assert_code(0)
        .json();
    let used = &v["targets"][0]["measurements"][0];
    assert_eq!(used["name"], "used");
    assert_eq!(used["value"], 4.0, "3 sessions and the check itself: {v}");
    // The ceiling of `used` is max_connections (sessions in the reserved slots count too); the thresholds
    // are measured against the 8 slots ordinary roles can use.
    assert_eq!(used["max"], setting(&c, "max_connections") as f64);
    assert_eq!(
        setting(&c, "max_connections") - setting(&c, "superuser_reserved_connections"),
        8
    );

    let cases: &[(&str, &str, i32)] = &[
        // percent: 4 of 8 is 50%
        ("50%", "90%", 1),
        ("51%", "90%", 0),
        ("10%", "50%", 2),
        ("10%", "51%", 1),
        // count of used slots
        ("4", "8", 1),
        ("5", "8", 0),
        ("1", "4", 2),
        ("1", "5", 1),
        // negative: slots left (4 left)
        ("-4", "-0", 1),
        ("-3", "-0", 0),
        ("-8", "-4", 2),
        ("-8", "-3", 1),
    ];
    for (warning, critical, code) in cases {
        // The previous check's backend may hold its slot a moment after its client left.
        assert!(support::wait_until(Duration::from_secs(10), || {
            c.psql(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            )
            .unwrap()
                == "3"
        }));
        let out = pgconn()
            .env_cluster(&c)
            .args(["check", "--warning", warning, "--critical", critical])
            .run();
        assert_eq!(
            out.status, *code,
            "--warning {warning} --critical {critical}\n{}{}",
            out.stdout, out.stderr
        );
        let state = ["OK", "WARNING", "CRITICAL"][*code as usize];
        assert!(
            out.stdout.starts_with(&format!(
                "PGCONN {state} - 4 of 8 usable slots used (50%), 4 left"
            )),
            "{}",
            out.stdout
        );
        assert_eq!(out.stdout.lines().count(), 1, "one line: {}", out.stdout);
    }

    // Performance data: the used count with the counts at which each threshold fires.
    let out = pgconn()
        .env_cluster(&c)
        .args(["check", "-w", "75%", "-c", "-1"])
        .assert_code(0);
    let perf = out.stdout.split_once(" | ").unwrap().1;
    assert!(
        perf.starts_with(
            "used=4;6;7;0;10 reserved_used=0;;;0;2 slots_left=4;;;0;8 max_connections=10 "
        ),
        "{perf}"
    );
}

#[test]
fn idle_thresholds_count_sessions_idle_longer_than_the_age() {
    let c = cluster();
    let tag = unique("idle_check");
    let mut w = Workload::new();
    w.idle(c, 3, "postgres", "postgres", &tag).unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    let older = support::ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{tag}' AND state = 'idle' \
             AND now() - state_change > interval '1 second'"
        ),
    );
    assert_eq!(older, 3);

    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--app", tag.as_str(), "--idle-age", "1s"];
        args.extend_from_slice(extra);
        pgconn().args(args).run()
    };
    let out = run(&["--idle-warning", "3"]).assert_code(1);
    assert!(
        out.stdout.contains("3 idle longer than 1s (warning at 3)"),
        "{}",
        out.stdout
    );
    run(&["--idle-warning", "4"]).assert_code(0);
    run(&["--idle-warning", "2", "--idle-critical", "3"]).assert_code(2);
    run(&["--idle-warning", "2", "--idle-critical", "4"]).assert_code(1);
    // Younger than the age: not counted.
    let out = pgconn()
        .args([
            "check",
            "--app",
            &tag,
            "--idle-age",
            "1h",
            "--idle-warning",
            "1",
        ])
        .assert_code(0);
    assert!(
        out.stdout.contains("0 idle longer than 1h"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("idle_long=0;1;;0"), "{}", out.stdout);
}

/// With every default, a (database, user, application) whose idle sessions take a large share of the
/// slots is a possible leak for status (WARNING), and so for check: exit 1, the application named.
/// max_connections 20 and 3 reserved: 10 idle sessions are 59% of the 17 usable slots (the leak rule's
/// --leak-share is 25%), while 11 used of 17 stay below check's 80% capacity threshold.
#[test]
fn check_flags_with_its_defaults_the_leak_status_flags() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 20,
        superuser_reserved_connections: Some(3),
        ..ClusterOptions::default()
    });
    let mut w = Workload::new();
    w.idle(&c, 10, "postgres", "postgres", "leaky-worker")
        .unwrap();

    let status = pgconn().env_cluster(&c).args(["status", "--json"]).json();
    assert_eq!(status["verdict"]["status"], "WARNING", "{status:#}");
    assert_eq!(status["leak_suspects"][0]["application"], "leaky-worker");
    assert_eq!(status["leak_suspects"][0]["idle"], 10);
    let reason = status["leak_suspects"][0]["reason"].as_str().unwrap();

    let out = pgconn().env_cluster(&c).arg("check").assert_code(1);
    assert!(
        out.stdout.starts_with("PGCONN WARNING - "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(reason), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("possible connection leak: application \"leaky-worker\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("11 of 17 usable slots used (65%)"),
        "capacity itself is fine: {}",
        out.stdout
    );
    let v = pgconn()
        .env_cluster(&c)
        .args(["check", "--json"])
        .run()
        .assert_code(1)
        .json();
    assert_eq!(v["targets"][0]["reasons"], serde_json::json!([reason]));
    assert_eq!(v["thresholds"]["leak_idle_age_seconds"], 600.0);
    assert_eq!(v["thresholds"]["leak_min_sessions"], 10);
    assert_eq!(v["thresholds"]["leak_share_percent"], 25.0);

    // The leak rule's options are status's, on both commands: more than 10 sessions needed, no leak.
    let status = pgconn()
        .env_cluster(&c)
        .args(["status", "--json", "--leak-min-sessions", "11"])
        .json();
    assert_eq!(status["verdict"]["status"], "OK", "{status:#}");
    pgconn()
        .env_cluster(&c)
        .args(["check", "--leak-min-sessions", "11"])
        .assert_code(0);
}

/// The age half of the leak rule (status's WARNING for sessions idle past --leak-idle-age), with the age
/// shortened on both commands to a second: check agrees with status both before and after the sessions
/// are that old, and names the application; its own idle thresholds still tighten the verdict.
#[test]
fn check_and_status_agree_on_an_old_leak() {
    let c = cluster();
    let tag = unique("oldleak");
    let mut w = Workload::new();
    w.idle(c, 10, "postgres", "postgres", &tag).unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--app", tag.as_str()];
        args.extend_from_slice(extra);
        pgconn().args(args).run()
    };
    let status = |extra: &[&str]| {
        let mut args = vec!["status", "--json", "--app", tag.as_str()];
        args.extend_from_slice(extra);
        pgconn().args(args).json()
    };
    // Young, and 10 of 297 slots: no leak for either.
    assert_eq!(
        status(&["--leak-idle-age", "1h"])["verdict"]["status"],
        "OK"
    );
    check(&["--leak-idle-age", "1h"]).assert_code(0);

    std::thread::sleep(Duration::from_millis(1300));
    let older = support::ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{tag}' AND state = 'idle' \
             AND now() - state_change > interval '1 second'"
        ),
    );
    assert_eq!(older, 10);
    let s = status(&["--leak-idle-age", "1s"]);
    assert_eq!(s["verdict"]["status"], "WARNING", "{s:#}");
    assert_eq!(s["leak_suspects"][0]["idle_longer_than_threshold"], 10);
    let reason = s["leak_suspects"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("application \"{tag}\"")) && reason.contains("holds 10 sessions"),
        "{reason}"
    );
    let out = check(&["--leak-idle-age", "1s"]).assert_code(1);
    assert!(
        out.stdout.starts_with(&format!(
            "PGCONN WARNING - possible connection leak: application \"{tag}\""
        )),
        "{}",
        out.stdout
    );
    // Tightened by check's own idle thresholds, which count idle sessions whoever holds them.
    let out = check(&[
        "--leak-idle-age",
        "1s",
        "--idle-age",
        "1s",
        "--idle-critical",
        "10",
    ])
    .assert_code(2);
    assert!(
        out.stdout
            .contains("10 idle longer than 1s (critical at 10)")
            && out.stdout.contains("possible connection leak"),
        "{}",
        out.stdout
    );
}

#[test]
fn idle_in_transaction_age_thresholds() {
    let c = cluster();
    let tag = unique("iit_check");
    let mut w = Workload::new();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &tag)
        .unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    let age_ms = support::ground_truth_count(
        c,
        &format!(
            "SELECT (extract(epoch FROM now() - state_change) * 1000)::bigint FROM pg_stat_activity \
             WHERE application_name = '{tag}'"
        ),
    );
    assert!(age_ms >= 2000, "{age_ms}");
    let at = |ms: i64| format!("{ms}ms");
    // Just below the age: fires; a minute past it: does not.
    pgconn()
        .args([
            "check",
            "--app",
            &tag,
            "--idle-in-transaction-warning",
            &at(age_ms - 500),
        ])
        .assert_code(1);
    pgconn()
        .args([
            "check",
            "--app",
            &tag,
            "--idle-in-transaction-warning",
            &at(age_ms + 60_000),
        ])
        .assert_code(0);
    let out = pgconn()
        .args([
            "check",
            "--app",
            &tag,
            "--idle-in-transaction-warning",
            "1s",
            "--idle-in-transaction-critical",
            &at(age_ms - 500),
        ])
        .assert_code(2);
    assert!(
        out.stdout.contains("oldest idle in transaction"),
        "{}",
        out.stdout
    );
    let v = pgconn()
        .args([
            "check",
            "--app",
            &tag,
            "--json",
            "--idle-in-transaction-critical",
            "1h",
        ])
        .json();
    let m = v["targets"][0]["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "oldest_idle_in_transaction")
        .unwrap()
        .clone();
    assert!(
        m["value"].as_f64().unwrap() * 1000.0 >= (age_ms - 50) as f64,
        "{m}"
    );
    assert_eq!(m["critical"], 3600.0);
    assert_eq!(m["unit"], "s");
}

/// A WARNING or CRITICAL line names who holds the slots (the largest group) and the session idle in
/// transaction the longest, as the server reports them; the line stays one line.
#[test]
fn the_plugin_line_names_the_largest_holder_and_the_oldest_idle_transaction() {
    let c = cluster();
    let tag = unique("culprit");
    let (leaky, billing) = (format!("{tag}-leaky"), format!("{tag}-billing"));
    let mut w = Workload::new();
    w.idle(c, 6, "postgres", "postgres", &leaky).unwrap();
    w.idle(c, 2, "postgres", "postgres", &format!("{tag}-other"))
        .unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &billing)
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let pid = support::ground_truth_count(
        c,
        &format!("SELECT pid FROM pg_stat_activity WHERE application_name = '{billing}'"),
    );
    let filter = format!("{tag}-*");
    let out = pgconn()
        .args([
            "check",
            "--app",
            &filter,
            "--idle-in-transaction-warning",
            "1ms",
        ])
        .assert_code(1);
    let line = out.stdout.lines().next().unwrap();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let holder = format!("; {leaky} (user postgres, database postgres) holds 6, 6 idle, oldest ");
    assert!(line.contains(&holder), "{line}");
    // Right after the part that fired first, before the parts that did not.
    let at = line.find(&holder).unwrap();
    assert!(
        line.find("oldest idle in transaction").unwrap() < at
            && at < line.find("usable slots used").unwrap(),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "(warning at 1ms): pid {pid}, user postgres, application {billing}, client local"
        )),
        "{line}"
    );
    // The same session in status's JSON, with both of its ages.
    let v = pgconn().args(["status", "--app", &filter, "--json"]).json();
    let t = &v["oldest_idle_in_transaction"];
    assert_eq!(t["pid"].as_i64(), Some(pid), "{t}");
    assert_eq!(t["application"], billing.as_str());
    assert_eq!(t["database"], "postgres");
    assert!(t["idle_seconds"].as_f64().unwrap() >= 1.0, "{t}");
    assert!(
        t["transaction_seconds"].as_f64().unwrap() >= t["idle_seconds"].as_f64().unwrap(),
        "{t}"
    );
    // Nothing fired: the line names no holder.
    let ok = pgconn()
        .args([
            "check",
            "--app",
            &filter,
            "--idle-in-transaction-warning",
            "1h",
        ])
        .assert_code(0);
    assert!(!ok.stdout.contains(" holds "), "{}", ok.stdout);
    assert!(ok.stdout.contains(&format!("pid {pid}")), "{}", ok.stdout);
}

/// A server with max_connections 3 and 1 reserved slot, filled by an ordinary role.
#[test]
fn a_full_server_is_critical() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 3,
        superuser_reserved_connections: Some(1),
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 2, "app", "postgres", "filler").unwrap();

    // The ordinary role is refused: 53300, only the reserved slots left.
    let out = pgconn()
        .env_cluster(&c)
        .env("PGUSER", "app")
        .arg("check")
        .assert_code(2);
    assert!(
        out.stdout
            .starts_with("PGCONN CRITICAL - only the reserved connection slots are left at "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("53300"), "{}", out.stdout);
    let v = pgconn()
        .env_cluster(&c)
        .env("PGUSER", "app")
        .args(["check", "--json"])
        .run()
        .assert_code(2)
        .json();
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["targets"][0]["error_kind"], "reserved_only");
    assert_eq!(v["targets"][0]["sqlstate"], "53300");
    // Not an "unreachable" case: --unreachable unknown does not soften it.
    pgconn()
        .env_cluster(&c)
        .env("PGUSER", "app")
        .args(["check", "--unreachable", "unknown"])
        .assert_code(2);

    // A superuser gets in through the reserved slot: 2 of 2 ordinary slots used, and its own session in
    // the reserved one; the performance data stays within its ceilings.
    let out = pgconn()
        .env_cluster(&c)
        .args(["check", "-w", "100%", "-c", "100%"])
        .assert_code(2);
    assert!(
        out.stdout.starts_with(
            "PGCONN CRITICAL - 2 of 2 usable slots used, 0 left, and 1 more in the slots reserved for \
             superusers (0 of 1 still free)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(" used=3;2;2;0;3 reserved_used=1;;;0;1 "),
        "{}",
        out.stdout
    );
    let v = pgconn().env_cluster(&c).args(["status", "--json"]).json();
    assert_eq!(v["capacity"]["in_reserved_slots"], 1);
    assert_eq!(v["capacity"]["reserved_slots_left"], 0);
    assert!(
        v["verdict"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("1 more in the slots reserved for superusers (0 of 1 still free)"),
        "{:#}",
        v["verdict"]
    );

    // The last slot taken too: superusers are refused, the server is full.
    // (pgconn's own session of a moment ago may hold the slot a little longer)
    assert!(support::wait_until(Duration::from_secs(10), || w
        .idle(&c, 1, "postgres", "postgres", "filler")
        .is_ok()));
    let out = pgconn().env_cluster(&c).arg("check").assert_code(2);
    assert!(
        out.stdout.starts_with("PGCONN CRITICAL - server full: "),
        "{}",
        out.stdout
    );
    let v = pgconn()
        .env_cluster(&c)
        .args(["check", "--json"])
        .run()
        .assert_code(2)
        .json();
    assert_eq!(v["targets"][0]["error_kind"], "full", "{v}");
}

#[test]
fn an_unreachable_target_is_critical_unless_told_unknown() {
    let port = support::pgbouncer::free_port().to_string();
    let out = pgconn()
        .args(["check", "-h", "127.0.0.1", "-p", &port])
        .assert_code(2);
    assert!(
        out.stdout.starts_with("PGCONN CRITICAL - unreachable: "),
        "{}",
        out.stdout
    );
    let out = pgconn()
        .args([
            "check",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--unreachable",
            "unknown",
        ])
        .assert_code(3);
    assert!(
        out.stdout.starts_with("PGCONN UNKNOWN - unreachable: "),
        "{}",
        out.stdout
    );
    let v = pgconn()
        .args(["check", "-h", "127.0.0.1", "-p", &port, "--format", "json"])
        .run()
        .assert_code(2)
        .json();
    assert_eq!(v["targets"][0]["error_kind"], "unreachable");
    assert_eq!(
        v["targets"][0]["target"],
        format!("127.0.0.1:{port}/postgres")
    );
    // Prometheus: the check's state and pgconn_up 0.
    let out = pgconn()
        .args([
            "check",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--format",
            "prometheus",
        ])
        .assert_code(2);
    let s = scrape(&out.stdout);
    assert_eq!(value(&s, "pgconn_up", &[]), Some(0.0));
    assert_eq!(value(&s, "pgconn_check_status", &[]), Some(2.0));
}

#[test]
fn usage_errors_are_unknown() {
    for args in [
        &["check", "--warning", "5x"][..],
        &["check", "--critical", "120%"],
        &["check", "--no-such-flag"],
        &["check", "--json", "--format", "nagios"],
    ] {
        let out = pgconn().args(args).assert_code(3);
        assert!(
            out.stdout.starts_with("PGCONN UNKNOWN - "),
            "{args:?}: {}",
            out.stdout
        );
        assert!(!out.stderr.is_empty());
    }
    // Help is not an error.
    pgconn().args(["check", "--help"]).assert_code(0);
}

#[test]
fn prometheus_numbers_match_the_server() {
    let c = cluster();
    let tag = unique("prom");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &format!("{tag}-idle"))
        .unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &format!("{tag}-iit"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let before = support::ground_truth_count(
        c,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    );
    let out = pgconn()
        .args([
            "status",
            "--format",
            "prometheus",
            "--app",
            &format!("{tag}-*"),
            "--by",
            "application",
        ])
        .assert_code(0);
    let after = support::ground_truth_count(
        c,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    );
    let iit_age = support::ground_truth_count(
        c,
        &format!(
            "SELECT (extract(epoch FROM now() - state_change) * 1000)::bigint FROM pg_stat_activity \
             WHERE application_name = '{tag}-iit'"
        ),
    ) as f64
        / 1000.0;
    let s = scrape(&out.stdout);
    let target = format!("{}:{}/postgres", c.socket_dir().display(), c.port());
    let t = [("target", target.as_str())];

    for family in [
        "pgconn_up",
        "pgconn_max_connections",
        "pgconn_reserved_slots",
        "pgconn_usable_slots",
        "pgconn_used_slots",
        "pgconn_slots_left",
        "pgconn_sessions",
        "pgconn_group_sessions",
        "pgconn_oldest_idle_seconds",
        "pgconn_oldest_idle_in_transaction_seconds",
    ] {
        assert!(s.docs.contains_key(family), "no HELP for {family}");
        assert!(
            out.stdout.contains(&format!("# TYPE {family} gauge\n")),
            "no TYPE for {family}"
        );
    }
    let max = setting(c, "max_connections") as f64;
    let reserved = setting(c, "superuser_reserved_connections") as f64;
    assert_eq!(value(&s, "pgconn_up", &t), Some(1.0));
    assert_eq!(value(&s, "pgconn_max_connections", &t), Some(max));
    assert_eq!(value(&s, "pgconn_reserved_slots", &t), Some(reserved));
    assert_eq!(value(&s, "pgconn_usable_slots", &t), Some(max - reserved));
    let used = value(&s, "pgconn_used_slots", &t).unwrap();
    // Other tests of this binary come and go: the count lies between two readings (plus pgconn itself).
    let (lo, hi) = (before.min(after) as f64, (before.max(after) + 1) as f64);
    assert!(
        used >= lo - 10.0 && used <= hi + 10.0 && used >= 4.0,
        "used {used} vs {before}..{after}"
    );
    assert_eq!(
        value(&s, "pgconn_slots_left", &t),
        Some(max - reserved - used)
    );
    let state = |st: &str| value(&s, "pgconn_sessions", &[("target", &target), ("state", st)]);
    assert_eq!(state("idle"), Some(2.0));
    assert_eq!(state("idle_in_transaction"), Some(1.0));
    assert_eq!(state("active"), Some(0.0));
    assert_eq!(state("not_visible"), Some(0.0));
    let group = |app: &str| {
        value(
            &s,
            "pgconn_group_sessions",
            &[("target", &target), ("application", app)],
        )
    };
    assert_eq!(group(&format!("{tag}-idle")), Some(2.0));
    assert_eq!(group(&format!("{tag}-iit")), Some(1.0));
    let age = value(&s, "pgconn_oldest_idle_in_transaction_seconds", &t).unwrap();
    assert!(
        age > 0.0 && age <= iit_age + 0.01,
        "{age} vs the server's {iit_age}"
    );
    assert!(value(&s, "pgconn_oldest_idle_seconds", &t).unwrap() > 0.0);

    // check --format prometheus: the same gauges plus the state.
    let out = pgconn()
        .args([
            "check",
            "--format",
            "prometheus",
            "--app",
            &format!("{tag}-*"),
        ])
        .assert_code(0);
    let s = scrape(&out.stdout);
    assert_eq!(value(&s, "pgconn_check_status", &t), Some(0.0));
    assert_eq!(value(&s, "pgconn_max_connections", &t), Some(max));
}

#[test]
fn label_values_are_escaped_for_the_text_format() {
    let c = cluster();
    let tag = unique("esc");
    let app = format!("{tag} say \"hi\" \\ back");
    let mut w = Workload::new();
    w.idle(c, 1, "postgres", "postgres", &app).unwrap();
    let out = pgconn()
        .args([
            "status",
            "--format",
            "prometheus",
            "--app",
            &format!("{tag}*"),
            "--by",
            "application",
        ])
        .assert_code(0);
    let escaped = format!("application=\"{tag} say \\\"hi\\\" \\\\ back\"");
    assert!(out.stdout.contains(&escaped), "{}", out.stdout);
}

/// Names in `dir` (no temporary file may stay behind).
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A target that failed has `pgconn_up 0` (and postgres_exporter's `pg_up 0`), one
/// `pgconn_scrape_error{kind}` of 1, and nothing else.
fn assert_failed(s: &Scrape, target: &str, kind: &str) {
    let samples: Vec<_> = s
        .samples
        .iter()
        .filter(|x| x.labels.get("target") == Some(target))
        .map(|x| (x.metric.as_str(), x.labels.get("kind"), x.value.clone()))
        .collect();
    assert_eq!(
        samples,
        vec![
            ("pgconn_up", None, Value::Gauge(0.0)),
            ("pg_up", None, Value::Gauge(0.0)),
            ("pgconn_scrape_error", Some(kind), Value::Gauge(1.0)),
        ],
        "{target}"
    );
    assert!(s.docs.contains_key("pgconn_scrape_error"), "HELP line");
}

/// `--output` replaces the file atomically; when the collection fails, the file says so (`pgconn_up 0`
/// and `pgconn_scrape_error{kind="unreachable"} 1`) instead of keeping the last good numbers, and the run
/// exits 1. Without --output, stdout says the same.
#[test]
fn output_is_written_atomically_and_says_when_a_collection_failed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgconn.prom");
    let out = pgconn()
        .args(["status", "--format", "prometheus", "--output"])
        .arg(&file)
        .assert_code(0);
    assert_eq!(out.stdout, "", "nothing on stdout with --output");
    let s = scrape(&std::fs::read_to_string(&file).unwrap());
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "pgconn_up" && x.value == Value::Gauge(1.0)));
    assert!(!s.samples.iter().any(|x| x.metric == "pgconn_scrape_error"));

    // Nothing listens on the port: unreachable.
    let port = support::pgbouncer::free_port().to_string();
    let down = format!("127.0.0.1:{port}/postgres");
    let out = pgconn()
        .args([
            "status",
            "--format",
            "prometheus",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--output",
        ])
        .arg(&file)
        .assert_code(1);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_failed(&scrape(&text), &down, "unreachable");
    assert!(
        text.contains("# TYPE pgconn_scrape_error gauge\n"),
        "{text}"
    );
    assert_eq!(names_in(dir.path()), ["pgconn.prom"]);

    // Several targets: the one that answered keeps its numbers, the other says it failed.
    let c = cluster();
    let up = format!("{}:{}/postgres", c.socket_dir().display(), c.port());
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-d",
            &c.conninfo("postgres", "postgres"),
            "-d",
            &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
            "status",
            "--format",
            "prometheus",
            "--output",
        ])
        .arg(&file)
        .assert_code(1);
    assert!(out.stderr.contains(&down), "{}", out.stderr);
    let s = scrape(&std::fs::read_to_string(&file).unwrap());
    let t = [("target", up.as_str())];
    assert_eq!(value(&s, "pgconn_up", &t), Some(1.0));
    assert_eq!(
        value(&s, "pgconn_max_connections", &t),
        Some(setting(c, "max_connections") as f64)
    );
    assert_eq!(value(&s, "pgconn_scrape_error", &t), None);
    assert_failed(&s, &down, "unreachable");
    assert_eq!(names_in(dir.path()), ["pgconn.prom"]);

    // The check writes its state too, unreachable or not (the state is the data).
    let check_file = dir.path().join("check.prom");
    pgconn()
        .args([
            "check",
            "--format",
            "prometheus",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--output",
        ])
        .arg(&check_file)
        .assert_code(2);
    let s = scrape(&std::fs::read_to_string(&check_file).unwrap());
    let t = [("target", down.as_str())];
    assert_eq!(value(&s, "pgconn_check_status", &t), Some(2.0));
    assert_eq!(
        value(
            &s,
            "pgconn_scrape_error",
            &[("target", &down), ("kind", "unreachable")]
        ),
        Some(1.0)
    );

    // Without --output a failing run prints the same on stdout.
    let out = pgconn()
        .args([
            "status",
            "--format",
            "prometheus",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
        ])
        .assert_code(1);
    assert_failed(&scrape(&out.stdout), &down, "unreachable");
}

/// A server refusing every connection (53300, even to superusers): the file says `pgconn_up 0` and
/// `pgconn_scrape_error{kind="full"} 1`, not the numbers of the last run that got in.
#[test]
fn a_full_server_is_written_as_a_failed_scrape_of_kind_full() {
    let f = support::full::full_cluster(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgconn.prom");
    std::fs::write(&file, "pgconn_up 1\n").unwrap();
    let out = pgconn()
        .env_cluster(&f.c)
        .args(["status", "--format", "prometheus", "--output"])
        .arg(&file)
        .assert_code(1);
    assert!(out.stderr.contains("53300"), "{}", out.stderr);
    let target = format!("{}:{}/postgres", f.c.socket_dir().display(), f.c.port());
    assert_failed(
        &scrape(&std::fs::read_to_string(&file).unwrap()),
        &target,
        "full",
    );
    assert_eq!(names_in(dir.path()), ["pgconn.prom"]);
    // Still full: pgconn took no slot and no WAL sender slot.
    assert_eq!(support::full::ground_truth(&f.c).values().sum::<i64>(), 8);
}

/// An `--output` path that is a symbolic link is refused (exit 2) and its target left as it was.
#[test]
fn an_output_file_that_is_a_symbolic_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::write(&precious, "keep\n").unwrap();
    let link = dir.path().join("pgconn.prom");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    for command in ["status", "check"] {
        let out = pgconn()
            .args([command, "--format", "prometheus", "--output"])
            .arg(&link)
            .run();
        // check: UNKNOWN, as for any output it cannot write.
        assert_eq!(
            out.status,
            if command == "check" { 3 } else { 2 },
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("{} is a symbolic link", link.display())),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep\n");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(names_in(dir.path()), ["pgconn.prom", "precious"]);
    }
}

/// A TCP port that accepts connections and then never says a word (a hung server or a black hole).
fn hung_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().take(8) {
            held.push(s);
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
    (port, handle)
}

#[test]
fn a_hung_server_is_answered_within_the_checks_own_timeout() {
    let (port, _server) = hung_server();
    let port = port.to_string();
    let start = std::time::Instant::now();
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "check",
            "-t",
            "2s",
        ])
        .run();
    let took = start.elapsed();
    assert_eq!(out.status, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("PGCONN CRITICAL - "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("--timeout"), "{}", out.stdout);
    // Bounded by -t, not by the 10 s connect timeout: well inside a plugin's time.
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "check",
            "-t",
            "1s",
            "--unreachable",
            "unknown",
        ])
        .run();
    assert_eq!(out.status, 3, "{}", out.stdout);
    // The default bound stays inside Nagios' and NRPE's 10 s.
    let cli = pgconn::cli::try_parse_from(["pgconn", "check"]).unwrap();
    let pgconn::cli::Command::Check(a) = cli.command else {
        panic!()
    };
    assert_eq!(a.timeout, std::time::Duration::from_secs(9));
}

/// postgres_exporter's `pg_stat_activity_count` query (collector/pg_stat_activity.go, 0.17+), run on the
/// server as it runs it, but without its own backend: the ground truth for pgconn's families of the
/// same names. One row per series, `label|label|...|count`.
const EXPORTER_QUERY: &str = "SELECT concat_ws('|', pg_database.datname, tmp.state, \
     coalesce(tmp2.usename, ''), coalesce(tmp2.application_name, ''), coalesce(tmp2.backend_type, ''), \
     coalesce(tmp2.wait_event_type, ''), coalesce(tmp2.wait_event, ''), coalesce(count, 0)) \
     FROM (VALUES ('active'), ('idle'), ('idle in transaction'), ('idle in transaction (aborted)'), \
     ('fastpath function call'), ('disabled')) AS tmp(state) CROSS JOIN pg_database \
     LEFT JOIN (SELECT datname, state, usename, application_name, backend_type, wait_event_type, \
     wait_event, count(*) AS count FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
     GROUP BY datname, state, usename, application_name, backend_type, wait_event_type, wait_event) \
     AS tmp2 ON tmp.state = tmp2.state AND pg_database.datname = tmp2.datname";

/// The same series from pgconn's exposition, in the same spelling.
fn exporter_series(s: &Scrape) -> std::collections::BTreeSet<String> {
    s.samples
        .iter()
        .filter(|x| x.metric == "pg_stat_activity_count")
        .map(|x| {
            let l = |k: &str| x.labels.get(k).unwrap_or("").to_string();
            let v = match x.value {
                Value::Gauge(v) | Value::Untyped(v) => v,
                _ => panic!("not a gauge"),
            };
            [
                l("datname"),
                l("state"),
                l("usename"),
                l("application_name"),
                l("backend_type"),
                l("wait_event_type"),
                l("wait_event"),
                format!("{v}"),
            ]
            .join("|")
        })
        .collect()
}

/// On a server of its own (autovacuum off: nothing comes or goes between two snapshots), pgconn's
/// pg_stat_activity_count is postgres_exporter's, series for series: every database × state (zero rows
/// with empty labels), idle and idle-in-transaction sessions, background workers with a database, and
/// neither exporter's own backend. The settings have postgres_exporter's names too, and `check` prints the
/// same families.
#[test]
fn postgres_exporter_names_count_as_postgres_exporter_does() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 30,
        conf: vec![("autovacuum".into(), "off".into())],
        ..ClusterOptions::default()
    });
    c.psql("CREATE DATABASE appdb").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 3, "postgres", "appdb", "leaky-worker").unwrap();
    w.idle_in_transaction(&c, 1, "postgres", "postgres", "billing-api")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let truth: std::collections::BTreeSet<String> = c
        .psql(EXPORTER_QUERY)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        truth.contains("appdb|idle|postgres|leaky-worker|client backend|Client|ClientRead|3"),
        "{truth:#?}"
    );
    for args in [
        &["status", "--format", "prometheus"][..],
        &["check", "--format", "prometheus"][..],
    ] {
        let out = pgconn().env_cluster(&c).args(args).run();
        let s = scrape(&out.stdout);
        assert_eq!(exporter_series(&s), truth, "{args:?}\n{}", out.stdout);
        // Every database × the six states.
        let databases = c.psql("SELECT count(*) FROM pg_database").unwrap();
        let rows = s
            .samples
            .iter()
            .filter(|x| x.metric == "pg_stat_activity_max_tx_duration")
            .count();
        assert!(rows >= 6 * databases.trim().parse::<usize>().unwrap());
        assert_eq!(value(&s, "pg_up", &[]), Some(1.0));
        assert_eq!(
            value(&s, "pg_settings_max_connections", &[]),
            Some(setting(&c, "max_connections") as f64)
        );
        assert_eq!(
            value(&s, "pg_settings_superuser_reserved_connections", &[]),
            Some(setting(&c, "superuser_reserved_connections") as f64)
        );
        let reserved = value(&s, "pg_settings_reserved_connections", &[]);
        if support::ground_truth_count(&c, "SHOW server_version_num") >= 160000 {
            assert_eq!(reserved, Some(setting(&c, "reserved_connections") as f64));
        } else {
            assert_eq!(reserved, None);
        }
        // The idle transaction's age, as the server has it (a second or so later).
        let age = value(
            &s,
            "pg_stat_activity_max_tx_duration",
            &[("application_name", "billing-api")],
        )
        .unwrap();
        assert!(age > 0.2 && age < 120.0, "{age}");
    }
    // Without Prometheus output, the statement does not count them.
    let v = pgconn().env_cluster(&c).args(["status", "--json"]).json();
    assert!(v.get("activity_counts").is_none(), "{v}");
}
