//! Several targets at once: two real clusters and one closed port on 127.0.0.1, given as repeated `-d`
//! and as a `--targets` file, through status (table, JSON, Prometheus), sessions and check.

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{pgconn, start_cluster, unique, Cluster, ClusterOptions, Workload};

/// Two clusters of this binary, told apart by max_connections.
fn clusters() -> &'static (Cluster, Cluster) {
    static C: OnceLock<(Cluster, Cluster)> = OnceLock::new();
    C.get_or_init(|| {
        let a = start_cluster(&ClusterOptions {
            max_connections: 20,
            ..ClusterOptions::default()
        });
        let b = start_cluster(&ClusterOptions {
            max_connections: 30,
            tcp: true,
            ..ClusterOptions::default()
        });
        (a, b)
    })
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn label(c: &Cluster) -> String {
    format!("{}:{}/postgres", c.socket_dir().display(), c.port())
}

/// The three targets as `-d` values: cluster A over its socket (with a password, which must never show),
/// cluster B as a URI over TCP, and a closed port.
fn fleet() -> (Vec<String>, Vec<String>) {
    let (a, b) = clusters();
    let port = closed_port();
    let targets = vec![
        format!("{} password=sekrit-pw", a.conninfo("postgres", "postgres")),
        format!(
            "postgresql://postgres:sekrit-pw@127.0.0.1:{}/postgres",
            b.tcp_port().unwrap()
        ),
        format!("host=127.0.0.1 port={port} dbname=postgres"),
    ];
    let labels = vec![
        label(a),
        format!("127.0.0.1:{}/postgres", b.tcp_port().unwrap()),
        format!("127.0.0.1:{port}/postgres"),
    ];
    (targets, labels)
}

fn with_targets(first: &[&str], targets: &[String]) -> Vec<String> {
    let mut args: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    for t in targets {
        args.push("-d".into());
        args.push(t.clone());
    }
    args
}

#[test]
fn status_json_is_an_array_of_per_target_results() {
    let (targets, labels) = fleet();
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(&["status", "--json"], &targets))
        .run();
    assert_eq!(out.status, 1, "one target failed: {}", out.stderr);
    assert!(
        !out.stdout.contains("sekrit") && !out.stderr.contains("sekrit"),
        "a password leaked"
    );
    let v = out.json();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    for (r, l) in arr.iter().zip(&labels) {
        assert_eq!(r["target"], l.as_str());
    }
    assert_eq!(arr[0]["ok"], true);
    assert_eq!(arr[0]["error"], Value::Null);
    assert_eq!(arr[0]["report"]["capacity"]["max_connections"], 20);
    assert_eq!(arr[1]["ok"], true);
    assert_eq!(arr[1]["report"]["capacity"]["max_connections"], 30);
    assert_eq!(arr[2]["ok"], false);
    assert_eq!(arr[2]["report"], Value::Null);
    assert_eq!(arr[2]["error_kind"], "unreachable");
    assert!(arr[2]["error"]
        .as_str()
        .unwrap()
        .contains("could not connect"));
    assert!(
        out.stderr.contains(&labels[2]),
        "the failure is named on stderr: {}",
        out.stderr
    );
}

#[test]
fn status_table_has_a_target_column_and_a_row_per_failed_target() {
    let (targets, labels) = fleet();
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(&["status"], &targets))
        .assert_code(1);
    let header = out.stdout.lines().next().unwrap();
    assert!(header.trim_start().starts_with("TARGET"), "{header}");
    for l in &labels {
        assert!(
            out.stdout.contains(l.as_str()),
            "{l} missing:\n{}",
            out.stdout
        );
    }
    let failed = out.stdout.lines().find(|l| l.contains(&labels[2])).unwrap();
    assert!(
        failed.contains("ERROR") && failed.contains("could not connect"),
        "{failed}"
    );
    assert!(!out.stdout.contains("sekrit"));
}

#[test]
fn prometheus_has_a_target_label() {
    let (targets, labels) = fleet();
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(
            &["status", "--format", "prometheus"],
            &targets,
        ))
        .assert_code(1);
    let s = prometheus_parse::Scrape::parse(out.stdout.lines().map(|l| Ok(l.to_string()))).unwrap();
    let get = |metric: &str, target: &str| {
        s.samples
            .iter()
            .find(|x| x.metric == metric && x.labels.get("target") == Some(target))
            .map(|x| x.value.clone())
    };
    use prometheus_parse::Value::Gauge;
    assert_eq!(get("pgconn_up", &labels[0]), Some(Gauge(1.0)));
    assert_eq!(get("pgconn_up", &labels[1]), Some(Gauge(1.0)));
    assert_eq!(get("pgconn_up", &labels[2]), Some(Gauge(0.0)));
    assert_eq!(get("pgconn_max_connections", &labels[0]), Some(Gauge(20.0)));
    assert_eq!(get("pgconn_max_connections", &labels[1]), Some(Gauge(30.0)));
    assert_eq!(get("pgconn_max_connections", &labels[2]), None);
    // One HELP/TYPE per family, every target's samples together.
    assert_eq!(out.stdout.matches("# TYPE pgconn_up gauge").count(), 1);
}

#[test]
fn check_reports_the_worst_state_and_every_targets_state() {
    let (targets, labels) = fleet();
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(&["check"], &targets))
        .assert_code(2);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(
        lines[0].starts_with("PGCONN CRITICAL - 3 targets: 1 CRITICAL, 2 OK"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!("'{} used'=", labels[0])),
        "perfdata per target: {}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("OK {} - ", labels[0])),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&format!("OK {} - ", labels[1])),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(&format!("CRITICAL {} - unreachable: ", labels[2])),
        "{}",
        lines[3]
    );

    // Told that unreachable is UNKNOWN, the worst state is UNKNOWN.
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(
            &["check", "--unreachable", "unknown"],
            &targets,
        ))
        .assert_code(3);
    assert!(
        out.stdout
            .starts_with("PGCONN UNKNOWN - 3 targets: 1 UNKNOWN, 2 OK"),
        "{}",
        out.stdout
    );

    // A warning on one target and an unreachable one: CRITICAL beats WARNING beats UNKNOWN.
    let v = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(
            &[
                "check",
                "--json",
                "--unreachable",
                "unknown",
                "-w",
                "1",
                "-c",
                "100",
            ],
            &targets,
        ))
        .run()
        .assert_code(1)
        .json();
    let states: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["WARNING", "WARNING", "UNKNOWN"]);
    assert_eq!(v["status"], "WARNING");
}

#[test]
fn a_targets_file_with_comments_and_services() {
    let (a, b) = clusters();
    let (targets, labels) = fleet();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(
        f,
        "# the fleet\n\n{}\n  # indented comment\nservice=second\n{}",
        targets[0], targets[2]
    )
    .unwrap();
    let services = dir.path().join("pg_service.conf");
    std::fs::write(
        &services,
        format!(
            "[second]\nhost=127.0.0.1\nport={}\ndbname=postgres\nuser=postgres\n",
            b.tcp_port().unwrap()
        ),
    )
    .unwrap();
    let v = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .env("PGSERVICEFILE", &services)
        .arg("status")
        .arg("--json")
        .arg("--jobs")
        .arg("1")
        .arg("--targets")
        .arg(&file)
        .run()
        .assert_code(1)
        .json();
    let got: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()]
    );
    assert_eq!(v[1]["report"]["capacity"]["max_connections"], 30);

    // --service repeated is a target list too.
    let v = pgconn()
        .env_cluster(a)
        .env("PGSERVICEFILE", &services)
        .args([
            "status",
            "--json",
            "--service",
            "second",
            "--service",
            "second",
        ])
        .json();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn sessions_from_several_targets() {
    let (a, b) = clusters();
    let tag = unique("fleet_ps");
    let mut w = Workload::new();
    w.idle(a, 2, "postgres", "postgres", &tag).unwrap();
    w.idle(b, 1, "postgres", "postgres", &tag).unwrap();
    let (targets, labels) = fleet();
    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(
            &["sessions", "--json", "--app", &tag],
            &targets,
        ))
        .run()
        .assert_code(1);
    let v = out.json();
    let pids = |i: usize| -> Vec<i64> {
        v[i]["report"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["pid"].as_i64().unwrap())
            .collect()
    };
    let mut expected = w.pids().into_iter().map(i64::from).collect::<Vec<_>>();
    expected.sort();
    let mut got = [pids(0), pids(1)].concat();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(pids(0).len(), 2);
    assert_eq!(v[2]["ok"], false);

    let out = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args(with_targets(&["sessions", "--app", &tag], &targets))
        .assert_code(1);
    assert!(out
        .stdout
        .lines()
        .next()
        .unwrap()
        .trim_start()
        .starts_with("TARGET"));
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains(&tag)).count(),
        3,
        "{}",
        out.stdout
    );
    let failed = out.stdout.lines().find(|l| l.contains(&labels[2])).unwrap();
    assert!(failed.contains("(failed)"), "{failed}");
}

/// A port that accepts connections and never answers: the per-target timeout gives up on it while the
/// others are reported.
#[test]
fn a_silent_target_times_out_without_holding_up_the_others() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (a, _) = clusters();
    let started = Instant::now();
    let v = pgconn()
        .no_cluster_env()
        .env("PGUSER", "postgres")
        .args([
            "check",
            "--json",
            "--target-timeout",
            "1s",
            "-d",
            &a.conninfo("postgres", "postgres"),
            "-d",
            &format!("host=127.0.0.1 port={port} dbname=postgres connect_timeout=30"),
        ])
        .run()
        .assert_code(2)
        .json();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(v["targets"][0]["status"], "OK");
    assert_eq!(v["targets"][1]["status"], "CRITICAL");
    assert_eq!(v["targets"][1]["error_kind"], "timeout");
    drop(silent);
}

#[test]
fn one_target_keeps_the_one_target_output() {
    let (a, _) = clusters();
    let v = pgconn()
        .no_cluster_env()
        .args([
            "status",
            "--json",
            "-d",
            &a.conninfo("postgres", "postgres"),
        ])
        .json();
    assert!(v.is_object(), "not an array with one target");
    assert_eq!(v["capacity"]["max_connections"], 20);
    let v = pgconn()
        .no_cluster_env()
        .args([
            "status",
            "--format",
            "json",
            "-d",
            &a.conninfo("postgres", "postgres"),
        ])
        .json();
    assert!(v.is_object());
}

/// A TCP port that accepts connections and never answers, counting how many are open at once.
struct BlackHole {
    port: u16,
    peak: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn black_hole() -> BlackHole {
    use std::io::Read;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (o, p) = (open.clone(), peak.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let o = o.clone();
            // Read (and ignore) until the client closes its end.
            std::thread::spawn(move || {
                let mut s = stream;
                let mut buf = [0u8; 512];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
                o.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    BlackHole { port, peak }
}

#[test]
fn jobs_bounds_open_connections_also_after_targets_time_out() {
    let hole = black_hole();
    let targets: Vec<String> = (0..6)
        .map(|i| {
            format!(
                "host=127.0.0.1 port={} dbname=db{i} user=postgres",
                hole.port
            )
        })
        .collect();
    let mut cmd = pgconn().no_cluster_env().args([
        "--jobs",
        "2",
        "--target-timeout",
        "300ms",
        "--connect-timeout",
        "2s",
        "status",
        "--json",
    ]);
    for t in &targets {
        cmd = cmd.args(["-d", t]);
    }
    let out = cmd.run().assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 6);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["ok"] == false && t["error_kind"] == "timeout"));
    // Targets given up on after 300 ms keep their sockets until the 2 s connect timeout: never more
    // than --jobs open at once.
    assert_eq!(
        hole.peak.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "at most --jobs connections were open at once"
    );
}
