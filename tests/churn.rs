//! Churn against a real PostgreSQL (14+): pg_stat_database's session counters as the server keeps them
//! (sessions started, abandoned, ended by FATAL, killed), pgconn's Prometheus counters of them, `watch
//! --json`'s rates between samples (a reset is never a negative rate), status's share of new sessions
//! (a connection storm) and advise's findings from the rates. Each test uses a database of its own: the
//! counters are per database, and tests in this binary run at the same time.

mod support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{cluster, pgconn, superuser_client, unique, wait_until, Cluster, Workload};

/// How long a counter may take to move: on 15+ a backend flushes at exit (and an idle one within
/// 10 s); on 14 through the stats collector.
const POLL: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Counters {
    sessions: i64,
    abandoned: i64,
    fatal: i64,
    killed: i64,
}

/// A database of the test's own.
fn database(c: &Cluster, name: &str) -> String {
    let db = unique(name);
    superuser_client(c)
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    db
}

/// Ground truth: the server's own counters of `db`, read from database `postgres` (a fresh connection,
/// outside any transaction, so never a cached snapshot), so the reading session counts nowhere in `db`.
fn server_counters(c: &Cluster, db: &str) -> Counters {
    let row = superuser_client(c)
        .query_one(
            "SELECT sessions, sessions_abandoned, sessions_fatal, sessions_killed \
               FROM pg_stat_database WHERE datname = $1",
            &[&db],
        )
        .unwrap();
    Counters {
        sessions: row.get(0),
        abandoned: row.get(1),
        fatal: row.get(2),
        killed: row.get(3),
    }
}

/// Poll until `f` of the server's counters holds (up to [`POLL`]); the counters it held on.
fn poll(c: &Cluster, db: &str, what: &str, f: impl Fn(&Counters) -> bool) -> Counters {
    let mut last = Counters::default();
    let held = wait_until(POLL, || {
        last = server_counters(c, db);
        f(&last)
    });
    assert!(
        held,
        "{what}: the server's counters of {db} stayed at {last:?}"
    );
    last
}

/// The value of a Prometheus sample of `family` for `datname = db` in pgconn's text.
fn sample(text: &str, family: &str, db: &str) -> Option<f64> {
    let label = format!("datname=\"{db}\"");
    text.lines()
        .find(|l| l.starts_with(&format!("{family}{{")) && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

/// pgconn's Prometheus counters of `db` (read from database `postgres`).
fn pgconn_counters(db: &str) -> (Counters, String) {
    let out = pgconn()
        .args(["status", "--format", "prometheus"])
        .assert_code(0);
    let text = out.stdout.clone();
    let get = |f: &str| {
        sample(&text, f, db).unwrap_or_else(|| panic!("no {f} for {db} in:\n{text}")) as i64
    };
    (
        Counters {
            sessions: get("pgconn_sessions_started_total"),
            abandoned: get("pgconn_sessions_abandoned_total"),
            fatal: get("pgconn_sessions_fatal_total"),
            killed: get("pgconn_sessions_killed_total"),
        },
        text,
    )
}

/// A `psql` holding an idle session in `db` (its stdin kept open), as the `postgres` OS user.
fn psql_session(c: &Cluster, db: &str, app: &str) -> Child {
    // The server's own psql, else the one on PATH (any psql speaks to 14-18).
    let own = c.bindir().join("psql");
    let mut cmd = Command::new(if own.exists() {
        own
    } else {
        std::path::PathBuf::from("psql")
    });
    cmd.args(["-X", "-q"])
        .envs(c.env_for(db))
        .env("PGAPPNAME", app)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if nix::unistd::Uid::effective().is_root() {
        let pw = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        cmd.uid(pw.uid.as_raw()).gid(pw.gid.as_raw());
    }
    let mut child = cmd.spawn().expect("psql");
    // A statement, so the session is surely up before the test goes on.
    writeln!(child.stdin.as_mut().unwrap(), "SELECT 1;").unwrap();
    assert!(
        wait_until(POLL, || support::server_pids(app, Some("idle")).len() == 1),
        "psql's session of {app} never showed up"
    );
    child
}

#[test]
fn three_normal_sessions_raise_sessions_by_three_and_pgconn_exports_the_servers_counters() {
    let c = cluster();
    let db = database(c, "churn_normal");
    let before = server_counters(c, &db);
    for _ in 0..3 {
        let client = c.connect(c.superuser(), &db, "churn-normal").unwrap();
        client.close().unwrap();
    }
    let after = poll(c, &db, "3 normal sessions", |n| {
        n.sessions >= before.sessions + 3
    });
    assert_eq!(
        after.sessions,
        before.sessions + 3,
        "exactly the 3 sessions"
    );
    assert_eq!(
        (after.abandoned, after.fatal, after.killed),
        (before.abandoned, before.fatal, before.killed),
        "a normal ending counts as none of abandoned, fatal, killed"
    );
    // Nothing else happens in db: pgconn's counters are the server's.
    let (exported, text) = pgconn_counters(&db);
    assert_eq!(exported, after);
    // Typed as counters, never under a gauge's family name.
    for family in [
        "pgconn_sessions_started_total",
        "pgconn_sessions_abandoned_total",
        "pgconn_sessions_fatal_total",
        "pgconn_sessions_killed_total",
        "pgconn_session_time_seconds_total",
        "pgconn_idle_in_transaction_time_seconds_total",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} counter\n")),
            "{family} is a counter:\n{text}"
        );
        assert!(sample(&text, family, &db).is_some(), "{family} for {db}");
    }
}

#[test]
fn a_client_killed_with_sigkill_is_abandoned_and_advise_advises_keepalives() {
    let c = cluster();
    let db = database(c, "churn_abandoned");
    let app = unique("churn_psql");
    let before = server_counters(c, &db);
    let mut psql = psql_session(c, &db, &app);
    // advise measures its rates over a window; the client dies inside it.
    let advise = std::thread::spawn(|| {
        pgconn()
            .args(["advise", "--json", "--rate-window", "5s"])
            .assert_code(0)
            .json()
    });
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(psql.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    psql.wait().unwrap();
    let after = poll(c, &db, "a client killed with SIGKILL", |n| {
        n.abandoned > before.abandoned
    });
    assert_eq!(after.abandoned, before.abandoned + 1);
    assert_eq!(
        after.killed, before.killed,
        "SIGKILL of the client is not a kill"
    );
    let (exported, _) = pgconn_counters(&db);
    assert_eq!(exported.abandoned, after.abandoned);

    let report = advise.join().unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "sessions_abandoned")
        .unwrap_or_else(|| panic!("no sessions_abandoned finding: {report:#}"));
    assert_eq!(finding["severity"], "WARNING", "seen within the window");
    let command = finding["commands"][0].as_str().unwrap();
    assert!(
        command.contains("tune set tcp_keepalives_idle=")
            && command.contains("client_connection_check_interval="),
        "{command}"
    );
    let evidence = finding["evidence"].to_string();
    assert!(
        evidence.contains(&format!("database {db}: 1 abandoned in the window")),
        "{evidence}"
    );
}

#[test]
fn pgconn_kill_raises_sessions_killed() {
    let c = cluster();
    let db = database(c, "churn_killed");
    let app = unique("churn_kill");
    let before = server_counters(c, &db);
    let mut w = Workload::new();
    w.idle(c, 1, "postgres", &db, &app).unwrap();
    pgconn()
        .args(["kill", "--app", &app, "--include-superusers", "--yes"])
        .assert_code(0);
    let after = poll(c, &db, "pgconn kill", |n| n.killed > before.killed);
    assert_eq!(after.killed, before.killed + 1);
    assert_eq!(after.fatal, before.fatal, "a kill is not a FATAL ending");
    let (exported, _) = pgconn_counters(&db);
    assert_eq!(exported.killed, after.killed);
}

#[test]
fn an_idle_session_timeout_raises_sessions_fatal_and_advise_asks_about_the_pool() {
    let c = cluster();
    let db = database(c, "churn_fatal");
    superuser_client(c)
        .batch_execute(&format!(
            "ALTER DATABASE {db} SET idle_session_timeout = '1s'"
        ))
        .unwrap();
    let before = server_counters(c, &db);
    // advise itself stays in database postgres (the timeout would end its own session).
    let advise = std::thread::spawn(|| {
        pgconn()
            .args(["advise", "--json", "--rate-window", "6s"])
            .assert_code(0)
            .json()
    });
    std::thread::sleep(Duration::from_millis(500));
    let idle = c.connect(c.superuser(), &db, "churn-fatal").unwrap();
    let after = poll(c, &db, "idle_session_timeout of 1 s", |n| {
        n.fatal > before.fatal
    });
    assert_eq!(after.fatal, before.fatal + 1);
    assert_eq!(after.killed, before.killed);
    drop(idle);
    let (exported, _) = pgconn_counters(&db);
    assert_eq!(exported.fatal, after.fatal);

    let report = advise.join().unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "idle_session_timeout_churn")
        .unwrap_or_else(|| panic!("no idle_session_timeout_churn finding: {report:#}"));
    let title = finding["title"].as_str().unwrap();
    assert!(
        title.starts_with("the timeout is ending ")
            && title.ends_with(" sessions a minute: is a pool keeping them idle?"),
        "{title}"
    );
    assert!(
        finding["evidence"]
            .to_string()
            .contains(&format!("1s for database {db}")),
        "{finding:#}"
    );
}

/// The churn entries of `db` in `watch --json` lines.
fn churn_of(lines: &[Value], db: &str) -> Vec<Value> {
    lines
        .iter()
        .flat_map(|l| l["churn"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["database"] == db)
        .collect()
}

#[test]
fn watch_json_shows_the_rates_between_samples_and_a_reset_never_as_a_negative_rate() {
    let c = cluster();
    let db = database(c, "churn_watch");
    // watch's own long-lived connection is in db: consecutive samples on it must see new values.
    let watch = {
        let env = c.env_for(&db);
        std::thread::spawn(move || {
            let mut cmd = pgconn().args(["watch", "--json", "--interval", "1s", "--count", "9"]);
            for (k, v) in env {
                cmd = cmd.env(k, v);
            }
            cmd.assert_code(0).stdout
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        c.connect(c.superuser(), &db, "churn-watch")
            .unwrap()
            .close()
            .unwrap();
    }
    poll(c, &db, "3 sessions", |_| true);
    std::thread::sleep(Duration::from_millis(2500));
    c.connect(c.superuser(), &db, "churn-watch")
        .unwrap()
        .batch_execute("SELECT pg_stat_reset()")
        .unwrap();
    let out = watch.join().unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(
        lines[0]["churn"],
        serde_json::json!([]),
        "no rate before a second sample"
    );
    let churn = churn_of(&lines, &db);
    assert_eq!(churn.len(), 8, "a rate for every later sample: {churn:#?}");
    let started: i64 = churn
        .iter()
        .filter_map(|c| c["sessions_started"].as_i64())
        .sum();
    assert!(
        started >= 3,
        "the 3 sessions were seen by later samples of the same connection: {churn:#?}"
    );
    assert!(churn
        .iter()
        .any(|c| c["sessions_per_second"].as_f64().unwrap_or(0.0) > 0.0));
    assert!(
        churn.iter().any(|c| c["reset"] == true),
        "pg_stat_reset() is a reset: {churn:#?}"
    );
    for c in &churn {
        for k in [
            "sessions_started",
            "abandoned",
            "fatal",
            "killed",
            "sessions_per_second",
            "abandoned_per_minute",
            "fatal_per_minute",
            "killed_per_minute",
        ] {
            if c["reset"] == true {
                assert!(c[k].is_null(), "a reset has no {k}: {c}");
            } else {
                assert!(c[k].as_f64().unwrap() >= 0.0, "never negative: {c}");
            }
        }
    }
}

#[test]
fn a_burst_of_fresh_sessions_is_a_connection_storm() {
    let c = cluster();
    let app = unique("churn_storm");
    let mut w = Workload::new();
    w.idle(c, 25, "postgres", "postgres", &app).unwrap();
    let r = pgconn()
        .args(["status", "--json", "--app", &app])
        .assert_code(0)
        .json();
    // Ground truth: the server's own count of the burst's sessions younger than 10 s.
    let young = support::ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' \
             AND backend_start > now() - interval '10 s'"
        ),
    );
    assert_eq!(
        young, 25,
        "the burst is younger than 10 s (a slow machine?)"
    );
    assert_eq!(r["new_sessions"]["sessions"], 25);
    assert_eq!(r["new_sessions"]["share_percent"], 100.0);
    assert_eq!(r["new_sessions"]["storm"], true);
    assert_eq!(r["verdict"]["status"], "WARNING");
    let reasons = r["verdict"]["reasons"].to_string();
    assert!(reasons.contains("connection storm: 25 of 25"), "{reasons}");

    // Above --storm-share only.
    let r = pgconn()
        .args(["status", "--json", "--app", &app, "--storm-share", "100"])
        .assert_code(0)
        .json();
    assert_eq!(r["new_sessions"]["storm"], false);
    assert!(!r["verdict"]["reasons"].to_string().contains("storm"));

    // advise: the pooler finding, with the storm as evidence.
    let a = pgconn()
        .args(["advise", "--json", "--app", &app, "--rate-window", "0s"])
        .assert_code(0)
        .json();
    let pooler = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "pgbouncer_recommended")
        .unwrap_or_else(|| panic!("no pooler finding: {a:#}"));
    assert!(pooler["title"]
        .as_str()
        .unwrap()
        .starts_with("connection storm"));
    assert!(pooler["evidence"]
        .to_string()
        .contains("connection storm: 25 of 25"));
    w.close();
}
