//! The throwaway cluster, simulated sessions and `pgconn sandbox`.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::*;

/// pg_stat_activity of the sessions whose application_name starts with `prefix`:
/// "application_name|state" -> count.
fn states_by_app(c: &Cluster, prefix: &str) -> BTreeMap<String, i64> {
    let mut client = superuser_client(c);
    client
        .query(
            "SELECT application_name || '|' || coalesce(state, ''), count(*) FROM pg_stat_activity \
             WHERE starts_with(application_name, $1) GROUP BY 1",
            &[&prefix],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn shared_cluster_is_up_and_reachable_every_documented_way() {
    let c = cluster();
    assert!(c.version_num() >= 140000, "version_num {}", c.version_num());
    assert_eq!(c.superuser(), "postgres");
    assert_eq!(c.psql("SELECT 1").unwrap(), "1");
    assert_eq!(
        c.psql("SELECT 1 UNION ALL SELECT NULL UNION ALL SELECT 3")
            .unwrap(),
        "1\n\n3"
    );
    assert!(c
        .socket_dir()
        .join(format!(".s.PGSQL.{}", c.port()))
        .exists());
    assert!(
        c.socket_dir().as_os_str().len() + 20 < 100,
        "socket path too long"
    );
    assert!(c.data_dir().starts_with(c.root_dir()));
    assert!(c.bindir().join("initdb").is_file());

    let env: BTreeMap<String, String> = c.env().into_iter().collect();
    assert_eq!(env["PGHOST"], c.socket_dir().display().to_string());
    assert_eq!(env["PGPORT"], c.port().to_string());
    assert_eq!(env["PGUSER"], "postgres");
    assert_eq!(env["PGDATABASE"], "postgres");

    let config: postgres::Config = c.conninfo("postgres", "template1").parse().unwrap();
    let mut client = config.connect(postgres::NoTls).unwrap();
    let db: String = client
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    assert_eq!(db, "template1");

    let port = c.tcp_port().expect("the shared cluster listens on TCP");
    let mut tcp = postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect(postgres::NoTls)
        .unwrap();
    let addr: Option<String> = tcp
        .query_one("SELECT host(inet_client_addr())", &[])
        .unwrap()
        .get(0);
    assert_eq!(addr.as_deref(), Some("127.0.0.1"));

    let app = unique("connect app");
    let mut client = c.connect("postgres", "postgres", &app).unwrap();
    let seen: String = client
        .query_one("SHOW application_name", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, app);
}

#[test]
fn own_cluster_applies_options_and_survives_stop_start_restart_reload() {
    let mut c = start_cluster(&ClusterOptions {
        max_connections: 20,
        superuser_reserved_connections: Some(2),
        hba: vec!["local all refused_here reject".into()],
        conf: vec![("work_mem".into(), "5MB".into())],
        ..ClusterOptions::default()
    });
    assert_eq!(c.tcp_port(), None);
    assert_eq!(c.psql("SHOW max_connections").unwrap(), "20");
    assert_eq!(c.psql("SHOW superuser_reserved_connections").unwrap(), "2");
    assert_eq!(c.psql("SHOW work_mem").unwrap(), "5MB");
    assert_eq!(c.psql("SHOW listen_addresses").unwrap(), "");
    assert_eq!(c.psql("SHOW server_encoding").unwrap(), "UTF8");
    c.psql("CREATE ROLE refused_here LOGIN").unwrap();
    let Err(err) = c.connect("refused_here", "postgres", "t") else {
        panic!("the hba reject line was not applied");
    };
    assert!(format!("{err:#}").contains("pg_hba.conf"), "{err:#}");

    c.stop().unwrap();
    assert!(!c.data_dir().join("postmaster.pid").exists());
    assert!(c.psql("SELECT 1").is_err());
    c.start_again().unwrap();
    assert_eq!(c.psql("SELECT 1").unwrap(), "1");

    c.psql("ALTER SYSTEM SET work_mem = '7MB'").unwrap();
    c.reload().unwrap();
    // reload() returns only once new sessions see the change.
    assert_eq!(c.psql("SHOW work_mem").unwrap(), "7MB");

    c.psql("ALTER SYSTEM SET max_connections = 42").unwrap();
    c.reload().unwrap();
    assert_eq!(c.psql("SHOW max_connections").unwrap(), "20");
    c.restart().unwrap();
    assert_eq!(c.psql("SHOW max_connections").unwrap(), "42");
}

#[test]
fn workload_sessions_show_up_in_pg_stat_activity_exactly_as_opened() {
    let c = cluster();
    let tag = unique("workload");
    let app = |kind: &str| format!("{tag}_{kind}");
    let mut w = Workload::new();
    assert!(w.is_empty());
    w.idle(c, 5, "postgres", "postgres", &app("idle")).unwrap();
    w.idle_never_queried(c, 3, "postgres", "template1", &app("new"))
        .unwrap();
    w.idle_in_transaction(c, 2, "postgres", "postgres", &app("iit"))
        .unwrap();
    w.active(c, 4, "postgres", "postgres", &app("active"), 600)
        .unwrap();
    assert_eq!(w.len(), 14);

    let expected: BTreeMap<String, i64> = [
        (format!("{}|idle", app("idle")), 5),
        (format!("{}|idle", app("new")), 3),
        (format!("{}|idle in transaction", app("iit")), 2),
        (format!("{}|active", app("active")), 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(states_by_app(c, &tag), expected);

    let mut client = superuser_client(c);
    let rows = client
        .query(
            "SELECT pid, application_name, query, datname, usename FROM pg_stat_activity \
             WHERE starts_with(application_name, $1)",
            &[&tag],
        )
        .unwrap();
    let mut seen: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let mut pids = w.pids();
    seen.sort_unstable();
    pids.sort_unstable();
    assert_eq!(pids, seen);
    for row in &rows {
        let (app_name, query, db, user): (String, String, String, String) =
            (row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(user, "postgres");
        if app_name == app("new") {
            assert_eq!(query, "");
            assert_eq!(db, "template1");
        } else if app_name == app("active") {
            assert_eq!(query, "SELECT pg_sleep(600)");
        } else {
            assert_eq!(query, "SELECT 1");
            assert_eq!(db, "postgres");
        }
    }

    drop(w);
    // Drop returns once the backends are gone, active ones included.
    assert_eq!(states_by_app(c, &tag), BTreeMap::new());
}

#[test]
fn workload_can_connect_through_tcp() {
    let c = cluster();
    let app = unique("tcp workload");
    let mut w = Workload::new();
    w.via_tcp(true)
        .idle(c, 3, "postgres", "postgres", &app)
        .unwrap();
    let from_loopback = ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' \
             AND host(client_addr) = '127.0.0.1'"
        ),
    );
    assert_eq!(from_loopback, 3);
}

#[test]
fn workload_reports_the_sqlstate_when_the_server_is_full() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 10,
        superuser_reserved_connections: Some(3),
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 7, "app", "postgres", "filler").unwrap();
    let err = w
        .idle(&c, 1, "app", "postgres", "one_too_many")
        .unwrap_err();
    let server = err
        .downcast_ref::<ServerError>()
        .unwrap_or_else(|| panic!("not a server error: {err:#}"));
    assert_eq!(server.code, "53300", "{err:#}");
    assert_eq!(w.len(), 7);
    // The superuser still gets one of the reserved slots.
    assert_eq!(
        c.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'filler'")
            .unwrap(),
        "7"
    );
}

#[test]
fn a_thousand_idle_sessions_open_quickly() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 1050,
        ..ClusterOptions::default()
    });
    let started = Instant::now();
    let mut w = Workload::new();
    w.idle(&c, 1000, "postgres", "postgres", "thousand")
        .unwrap();
    let opened = started.elapsed();
    assert_eq!(
        ground_truth_count(
            &c,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'thousand' AND state = 'idle'"
        ),
        1000
    );
    let started = Instant::now();
    drop(w);
    eprintln!(
        "1000 idle sessions: opened in {opened:?}, closed in {:?}",
        started.elapsed()
    );
    assert_eq!(
        ground_truth_count(
            &c,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'thousand'"
        ),
        0
    );
}

#[test]
fn tls_cluster_serves_the_generated_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let files = tls::generate(dir.path());
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        ssl: Some(files.ssl_files()),
        ..ClusterOptions::default()
    });
    assert_eq!(c.psql("SHOW ssl").unwrap(), "on");
    let connect = |ca: &PathBuf| {
        let mut builder =
            openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls()).unwrap();
        builder.set_ca_file(ca).unwrap();
        let connector = postgres_openssl::MakeTlsConnector::new(builder.build());
        postgres::Config::new()
            .host("localhost")
            .port(c.tcp_port().unwrap())
            .user("postgres")
            .dbname("postgres")
            .ssl_mode(postgres::config::SslMode::Require)
            .connect(connector)
    };
    let mut client = connect(&files.ca_cert).expect("verify-full against the generated CA");
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl);
    assert!(
        connect(&files.other_ca_cert).is_err(),
        "an unrelated CA must not verify"
    );
}

#[test]
fn dropping_a_cluster_stops_the_server_and_removes_its_directory() {
    let c = start_cluster(&ClusterOptions::default());
    let root = c.root_dir().to_path_buf();
    let mut w = Workload::new();
    w.idle(&c, 3, "postgres", "postgres", "left_open").unwrap();
    assert!(
        processes_in(&root).len() >= 4,
        "server processes should run in {}",
        root.display()
    );
    // The workload outlives the cluster here: dropping it afterwards must not hang or panic.
    drop(c);
    assert_eq!(processes_in(&root), Vec::<i32>::new());
    assert!(!root.exists(), "{} still exists", root.display());
    drop(w);
}

/// Not a test on its own: run by `the_watchdog_cleans_up_after_a_static_cluster` in a child process.
#[test]
#[ignore]
fn helper_static_cluster_never_dropped() {
    if std::env::var_os("PGCONN_TEST_STATIC_HELPER").is_none() {
        return;
    }
    static LEAKED: OnceLock<Cluster> = OnceLock::new();
    let c = LEAKED.get_or_init(|| start_cluster(&ClusterOptions::default()));
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", "static").unwrap();
    std::mem::forget(w);
    println!("ROOT={}", c.root_dir().display());
}

#[test]
fn the_watchdog_cleans_up_after_a_static_cluster() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_static_cluster_never_dropped",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PGCONN_TEST_STATIC_HELPER", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = PathBuf::from(
        stdout
            .lines()
            .find_map(|l| l.split_once("ROOT=").map(|(_, root)| root.trim()))
            .unwrap_or_else(|| panic!("no ROOT= line in {stdout}")),
    );
    let gone = wait_until(Duration::from_secs(3), || {
        !root.exists() && processes_in(&root).is_empty()
    });
    assert!(
        gone,
        "{} left behind: exists {}, processes {:?}",
        root.display(),
        root.exists(),
        processes_in(&root)
    );
}

#[test]
fn sandbox_simulates_the_leak_and_ctrl_c_removes_everything() {
    let mut sandbox =
        spawn_sandbox(&["--leak", "3", "--active", "1", "--idle-in-transaction", "2"]);
    assert_eq!(sandbox.env["PGUSER"], "postgres");
    assert_eq!(sandbox.env["PGDATABASE"], "appdb");
    let root = sandbox.root();
    let mut client = sandbox.client();
    let rows = client
        .query(
            "SELECT application_name, state, usename, count(*) FROM pg_stat_activity \
             WHERE datname = 'appdb' AND pid <> pg_backend_pid() GROUP BY 1, 2, 3 ORDER BY 1",
            &[],
        )
        .unwrap();
    let seen: Vec<(String, String, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let expected = [
        ("billing-api", "idle in transaction", 2),
        ("leaky-worker", "idle", 3),
        ("report-job", "active", 1),
    ]
    .map(|(a, s, n)| (a.to_string(), s.to_string(), "app".to_string(), n));
    assert_eq!(seen, expected);
    let max: String = client
        .query_one("SHOW max_connections", &[])
        .unwrap()
        .get(0);
    assert_eq!(max, "100");
    drop(client);

    sandbox.signal(Signal::SIGINT);
    let status = sandbox.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    assert!(!root.exists(), "{} still exists", root.display());
    assert_eq!(processes_in(&root), Vec::<i32>::new());
}

#[test]
fn sandbox_killed_with_sigkill_is_cleaned_up_by_its_watchdog() {
    let mut sandbox = spawn_sandbox(&["--leak", "3", "--max-connections", "20"]);
    let root = sandbox.root();
    let max: String = sandbox
        .client()
        .query_one("SHOW max_connections", &[])
        .unwrap()
        .get(0);
    assert_eq!(max, "20");
    sandbox.signal(Signal::SIGKILL);
    sandbox.wait(Duration::from_secs(10));
    let gone = wait_until(Duration::from_secs(3), || {
        !root.exists() && processes_in(&root).is_empty()
    });
    assert!(
        gone,
        "{} left behind: processes {:?}",
        root.display(),
        processes_in(&root)
    );
}

#[test]
fn sandbox_runs_pgconn_and_passes_its_exit_code_through() {
    let out = pgconn()
        .args(["sandbox", "--leak", "3", "--", "--version"])
        .assert_code(0);
    assert!(out.stdout.starts_with("pgconn "), "{}", out.stdout);
    assert!(!out.stdout.contains("export"), "{}", out.stdout);

    let out = pgconn()
        .args(["sandbox", "--leak", "1", "--", "--no-such-option"])
        .assert_code(2);
    assert!(out.stderr.contains("--no-such-option"), "{}", out.stderr);
}

#[test]
fn sandbox_refuses_more_sessions_than_role_app_can_open() {
    let out = pgconn()
        .args(["sandbox", "--leak", "96", "--max-connections", "100"])
        .assert_code(2);
    assert!(out.stderr.contains("do not fit"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn a_missing_postgresql_fails_with_the_install_hint() {
    let out = pgconn()
        .args(["sandbox", "--leak", "1"])
        .env("PGCONN_PGBIN", "/nonexistent/bin")
        .assert_code(1);
    assert!(
        out.stderr.contains("apt-get install postgresql"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("PGCONN_PGBIN"), "{}", out.stderr);
}

#[test]
fn a_filled_sandbox_is_read_through_a_wal_sender_slot_and_freed_by_kill_idle_or_rescue() {
    // Even superusers are refused: status gets in through a WAL sender slot and sees every slot taken.
    let v = pgconn()
        .args(["sandbox", "--fill", "--", "status", "--json"])
        .json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    assert_eq!(
        v["capacity"]["used"], v["capacity"]["max_connections"],
        "{v}"
    );
    assert!(v["states"]["idle"].as_u64().unwrap() > 40, "{v}");

    // kill-idle over that route frees the leaky-worker sessions, and only those.
    let v = pgconn()
        .args(["sandbox", "--fill", "--"])
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            "leaky-worker",
            "--yes",
            "--json",
        ])
        .json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    let freed = v["summary"]["terminated"].as_u64().unwrap();
    assert!(freed > 40, "{v}");
    assert_eq!(
        v["before"]["idle"].as_u64().unwrap() - freed,
        v["after"]["idle"].as_u64().unwrap()
    );
    assert_eq!(v["before"]["active"], v["after"]["active"]);

    // rescue, with no connection at all, frees role app's idle backends; a normal connection gets in.
    let v = pgconn()
        .args([
            "sandbox", "--fill", "--", "rescue", "--user", "app", "--yes", "--json",
        ])
        .json();
    assert_eq!(v["summary"]["terminated"].as_u64().unwrap(), freed, "{v}");
    assert_eq!(v["after"]["connected"], true, "{v}");
    let after = &v["after"]["status"];
    assert_eq!(after["connection"]["via"], "normal");
    assert_eq!(after["states"]["active"], 2, "{after}");
    assert_eq!(after["states"]["idle_in_transaction"], 2, "{after}");
}
