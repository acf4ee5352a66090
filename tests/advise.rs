//! `pgconn advise` and PgBouncer awareness against a real PostgreSQL and a real PgBouncer: findings carry
//! commands that work as printed, the generated pgbouncer.ini serves queries, and waiting clients show up.

mod support;

use std::time::Duration;

use pgconn::sandbox::Workload;
use serde_json::Value;
use support::pgbouncer::PgBouncer;
use support::{
    app_role, cluster, ground_truth_count, pgconn, server_pids, superuser_client, unique,
};

/// Split a printed command into words as a shell would, and drop the leading `pgconn`.
fn words(cmd: &str) -> Vec<String> {
    let mut out = shlex::split(cmd).unwrap_or_else(|| panic!("not one shell command: {cmd}"));
    assert_eq!(out.first().map(String::as_str), Some("pgconn"), "{cmd}");
    out.remove(0);
    out
}

fn finding<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn names_the_leaking_application_first_and_its_command_removes_the_leak() {
    let c = cluster();
    let tag = unique("adv");
    let role = app_role();
    let leaky = format!("{tag}-leaky");
    let fine = format!("{tag}-fine");
    let mut w = Workload::new();
    w.idle(c, 12, &role, "postgres", &leaky).unwrap();
    w.idle(c, 2, &role, "postgres", &fine).unwrap();
    w.active(c, 1, &role, "postgres", &fine, 60).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let v = pgconn()
        .args([
            "advise",
            "--json",
            "--app",
            &format!("{tag}-*"),
            "--leak-idle-age",
            "1s",
        ])
        .run()
        .assert_code(0)
        .json();
    let first = &v["findings"][0];
    assert_eq!(first["id"], "leak_suspect", "{v:#}");
    assert!(first["title"].as_str().unwrap().contains(&leaky));
    // One spelling of a severity in JSON: the verdict's (upper case).
    assert_eq!(first["severity"], "WARNING");
    for key in ["evidence", "why", "recommendation", "commands"] {
        assert!(!first[key].is_null(), "{key}");
    }
    let leak_findings: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "leak_suspect")
        .collect();
    assert_eq!(
        leak_findings.len(),
        1,
        "the fine application is not a suspect"
    );

    // Run the suggested command as printed (plus --yes: there is no terminal here).
    let cmd = first["commands"][0].as_str().unwrap();
    let before_fine = server_pids(&fine, None);
    let out = pgconn()
        .args(words(cmd))
        .args(["--yes", "--json"])
        .run()
        .assert_code(0);
    assert_eq!(out.json()["summary"]["terminated"], 12, "{}", out.stdout);
    assert!(
        support::wait_until(Duration::from_secs(10), || server_pids(&leaky, None)
            .is_empty()),
        "leak removed"
    );
    assert_eq!(
        server_pids(&fine, None),
        before_fine,
        "nothing else touched"
    );

    // The pool budget names each application with held / in use / suggested.
    let budget = finding(&v, "pool_budget").unwrap();
    let evidence = budget["evidence"].to_string();
    assert!(
        evidence.contains(&leaky) && evidence.contains(&fine),
        "{evidence}"
    );
}

#[test]
fn idle_transactions_and_missing_timeouts_come_with_their_fix() {
    let c = cluster();
    let tag = unique("advtx");
    let role = app_role();
    let db = tag.replace('-', "_");
    let mut su = support::superuser_client(c);
    su.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    let mut w = Workload::new();
    w.idle_in_transaction(c, 2, &role, &db, &tag).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let v = pgconn()
        .args([
            "advise",
            "--json",
            "--app",
            &tag,
            "--idle-in-transaction-age",
            "1s",
        ])
        .run()
        .assert_code(0)
        .json();
    let iit = finding(&v, "idle_in_transaction").expect("idle in transaction finding");
    assert!(
        iit["title"].as_str().unwrap().starts_with("2 session"),
        "{iit}"
    );
    let timeout =
        finding(&v, "timeout_unset_idle_in_transaction_session_timeout").expect("timeout finding");
    assert!(timeout["title"].as_str().unwrap().contains(&db));
    let tune_cmd = timeout["commands"][0].as_str().unwrap();
    assert!(
        tune_cmd.contains("tune set idle_in_transaction_session_timeout=5min")
            && tune_cmd.contains(&db),
        "{tune_cmd}"
    );

    // The idle-in-transaction command, run as printed (with --app to stay within this test), removes them.
    let cmd = iit["commands"][0].as_str().unwrap();
    let out = pgconn()
        .args(words(cmd))
        .args(["--app", &tag, "--yes", "--json"])
        .run()
        .assert_code(0);
    assert_eq!(out.json()["summary"]["terminated"], 2);

    // Once the database has the timeout, the finding goes away for it.
    su.batch_execute(&format!(
        "ALTER DATABASE {db} SET idle_in_transaction_session_timeout = '5min'"
    ))
    .unwrap();
    let mut w2 = Workload::new();
    w2.idle(c, 1, &role, &db, &tag).unwrap();
    let v = pgconn()
        .args(["advise", "--json", "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    assert!(
        finding(&v, "timeout_unset_idle_in_transaction_session_timeout").is_none(),
        "{v:#}"
    );
    assert!(finding(&v, "timeout_unset_statement_timeout").is_some());
}

#[test]
fn the_generated_pgbouncer_ini_serves_queries() {
    let c = cluster();
    let tag = unique("advpgb");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 25, &role, "postgres", &tag).unwrap();
    let v = pgconn()
        .args(["advise", "--json", "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    let f =
        finding(&v, "pgbouncer_recommended").expect("PgBouncer recommended for 25 idle sessions");
    let ini = f["config"].as_str().unwrap();
    assert!(ini.contains("pool_mode = transaction"));
    for key in [
        "default_pool_size",
        "max_client_conn",
        "reserve_pool_size",
        "server_idle_timeout",
    ] {
        assert!(ini.contains(key), "{key} in {ini}");
    }
    let bouncer = PgBouncer::start(ini, &["postgres"]);
    let mut client = bouncer.client("postgres");
    let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1, "a round trip through the generated configuration");
}

#[test]
fn pgbouncer_waiting_clients_and_its_server_connections_are_recognised() {
    let c = cluster();
    let ini = format!(
        "[databases]\npostgres = host={} port={} dbname=postgres\n[pgbouncer]\npool_mode = transaction\n\
         default_pool_size = 1\nreserve_pool_size = 0\nmax_client_conn = 50\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &["postgres"]);
    let mut holder = bouncer.client("postgres");
    holder.batch_execute("BEGIN; SELECT 1").unwrap(); // holds the only server connection
    let port = bouncer.port;
    let waiter = std::thread::spawn(move || {
        let mut c = postgres::Config::new()
            .host("127.0.0.1")
            .port(port)
            .user("postgres")
            .dbname("postgres")
            .connect(postgres::NoTls)
            .unwrap();
        c.query_one("SELECT 1", &[]).unwrap();
    });
    let console = bouncer.console();
    let mut v = Value::Null;
    assert!(
        support::wait_until(Duration::from_secs(10), || {
            v = pgconn()
                .args(["status", "--json", "--pgbouncer", &console])
                .run()
                .assert_code(0)
                .json();
            v["pgbouncer"]["clients_waiting"].as_i64().unwrap_or(0) >= 1
        }),
        "a waiting client shows up: {v:#}"
    );
    assert_eq!(v["pgbouncer"]["pools"][0]["servers_active"], 1);
    assert!(v["via_pgbouncer"].as_i64().unwrap() >= 1);

    // The server connection is recognised in sessions (by pid from SHOW SERVERS).
    let s = pgconn()
        .args(["sessions", "--json", "--pgbouncer", &console])
        .run()
        .assert_code(0)
        .json();
    let marked: Vec<&Value> = s["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["via_pgbouncer"] == true)
        .collect();
    assert_eq!(marked.len(), 1, "{s:#}");
    assert_eq!(marked[0]["state"], "idle_in_transaction");

    let a = pgconn()
        .args(["advise", "--json", "--pgbouncer", &console])
        .run()
        .assert_code(0)
        .json();
    let sat = finding(&a, "pgbouncer_pool_saturated").expect("saturated pool finding");
    assert!(sat["title"].as_str().unwrap().contains("waiting"));
    // status and advise judge the pooler by one rule (the wait only grows between the two calls).
    let rank = |s: &str| {
        ["OK", "WARNING", "CRITICAL"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let advised = rank(sat["severity"].as_str().unwrap());
    let v = pgconn()
        .args(["status", "--json", "--pgbouncer", &console])
        .json();
    let verdict = rank(v["verdict"]["status"].as_str().unwrap());
    assert!(verdict >= advised && verdict >= 1, "{:#}", v["verdict"]);
    assert!(v["verdict"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("client(s) waiting"));
    assert!(
        finding(&a, "pgbouncer_recommended").is_none(),
        "already behind a PgBouncer"
    );

    holder.batch_execute("COMMIT").unwrap();
    waiter.join().unwrap();
}

#[test]
fn pgbouncer_pools_larger_than_the_server_are_flagged() {
    let c = cluster();
    let ini = format!(
        "[databases]\npostgres = host={} port={} dbname=postgres pool_size=400\n[pgbouncer]\npool_mode = transaction\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &["postgres"]);
    let mut client = bouncer.client("postgres");
    client.query_one("SELECT 1", &[]).unwrap();
    let a = pgconn()
        .args(["advise", "--json", "--pgbouncer", &bouncer.console()])
        .run()
        .assert_code(0)
        .json();
    let f = finding(&a, "pgbouncer_pools_exceed_server").expect("oversized pools finding");
    assert!(f["title"].as_str().unwrap().contains("400"), "{f}");
}

#[test]
fn on_the_sandbox_advise_names_leaky_worker_first_and_its_command_removes_the_leak() {
    let mut sandbox = support::spawn_sandbox(&["--leak", "30"]);
    let env: Vec<(String, String)> = sandbox.env.clone().into_iter().collect();
    let with_env = |cmd: support::PgconnCmd| {
        env.iter()
            .fold(cmd.no_cluster_env(), |c, (k, v)| c.env(k, v))
    };
    let v = with_env(pgconn())
        .args(["advise", "--json"])
        .run()
        .assert_code(0)
        .json();
    let first = &v["findings"][0];
    assert_eq!(first["id"], "leak_suspect", "{v:#}");
    assert!(first["title"].as_str().unwrap().contains("leaky-worker"));
    let cmd = first["commands"][0].as_str().unwrap();
    assert!(
        cmd.starts_with("pgconn kill-idle --app leaky-worker"),
        "{cmd}"
    );

    let out = with_env(pgconn())
        .args(words(cmd))
        .args(["--yes", "--json"])
        .run()
        .assert_code(0);
    assert_eq!(out.json()["summary"]["terminated"], 30, "{}", out.stdout);
    let mut client = sandbox.client();
    let gone = support::wait_until(Duration::from_secs(10), || {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leaky-worker'",
                &[],
            )
            .unwrap()
            .get(0);
        n == 0
    });
    assert!(gone, "the leak is removed");
    let v = with_env(pgconn())
        .args(["advise", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert!(finding(&v, "leak_suspect").is_none(), "{v:#}");
    sandbox.signal(nix::sys::signal::Signal::SIGINT);
    assert!(sandbox.wait(Duration::from_secs(30)).success());
}

#[test]
fn sessions_that_never_ran_a_query_are_named() {
    let c = cluster();
    let tag = unique("never");
    let role = app_role();
    let mut w = Workload::new();
    w.idle_never_queried(c, 3, &role, "postgres", &tag).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let v = pgconn()
        .args(["advise", "--json", "--app", &tag, "--leak-idle-age", "1s"])
        .run()
        .assert_code(0)
        .json();
    let f = finding(&v, "never_queried").expect("never-queried finding");
    assert!(f["title"].as_str().unwrap().starts_with("3 session"), "{f}");
    assert!(f["title"].as_str().unwrap().contains(&tag));
}

#[test]
fn suggested_commands_never_carry_a_password() {
    let c = cluster();
    let tag = unique("advpw");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let conninfo = format!(
        "{} password=hunter2-secret",
        c.conninfo("postgres", "postgres")
    );
    let out = pgconn()
        .no_cluster_env()
        .args(["-d", &conninfo, "advise", "--json", "--app", &tag])
        .run()
        .assert_code(0);
    assert!(
        !out.stdout.contains("hunter2") && !out.stdout.contains("****"),
        "{}",
        out.stdout
    );
    let v = out.json();
    let cmd = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["commands"].as_array().unwrap())
        .next()
        .unwrap();
    // The printed command still reaches the same server (the password comes from PGPASSWORD or ~/.pgpass).
    let args = words(cmd.as_str().unwrap());
    assert_eq!(args[0], "-d", "{cmd}");
    assert!(args[1].contains(&format!("port={}", c.port())), "{cmd}");
}

#[test]
fn a_monitoring_role_gets_the_findings_and_is_told_what_it_could_not_read() {
    let c = cluster();
    let tag = unique("monitor");
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {tag} LOGIN IN ROLE pg_monitor"))
        .unwrap();
    let mut w = Workload::new();
    w.idle_in_transaction(c, 1, &app_role(), "postgres", &tag)
        .unwrap();
    let out = pgconn()
        .args(["-U", &tag, "advise", "--json"])
        .run()
        .assert_code(0);
    let v = out.json();
    assert!(!v["findings"].as_array().unwrap().is_empty(), "{v:#}");
    let skipped = v["skipped"].to_string();
    assert!(skipped.contains("pg_file_settings"), "{v:#}");
    let text = pgconn()
        .args(["-U", &tag, "advise"])
        .run()
        .assert_code(0)
        .stdout;
    assert!(text.contains("not read: "), "{text}");
}

/// The pool budget's line for `app`: its suggested pool size.
fn pool_size_of(v: &Value, app: &str) -> usize {
    let f = finding(v, "pool_budget").unwrap_or_else(|| panic!("no pool_budget: {v:#}"));
    let line = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|e| e.starts_with(app) && e.contains("-> pool size"))
        .unwrap_or_else(|| panic!("no pool size line for {app}: {f:#}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn pool_sizes_come_from_the_working_peak_over_the_samples_and_lock_waiters_are_not_demand() {
    let c = cluster();
    let tag = unique("peak");
    let role = app_role();
    let app = format!("{tag}-web");
    let table = format!("{tag}_t");
    // An idle-in-transaction session of another application holds a lock that four sessions of the
    // application wait for: they are active, but waiting, not working.
    let mut holder = superuser_client(c);
    holder
        .batch_execute(&format!(
            "CREATE TABLE \"{table}\" (x int); GRANT SELECT ON \"{table}\" TO PUBLIC"
        ))
        .unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE"
        ))
        .unwrap();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let mut client = c.connect(&role, "postgres", &app).unwrap();
            let sql = format!("SELECT count(*) FROM \"{table}\"");
            std::thread::spawn(move || client.query(&sql, &[]).map(|_| ()))
        })
        .collect();
    let waiting = || {
        ground_truth_count(
            c,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' \
                 AND wait_event_type = 'Lock'"
            ),
        )
    };
    if !support::wait_until(Duration::from_secs(10), || waiting() == 4) {
        let done: Vec<_> = waiters
            .into_iter()
            .filter(|t| t.is_finished())
            .map(|t| format!("{:?}", t.join()))
            .collect();
        panic!("{} waiting; ended: {done:?}", waiting());
    }
    // Twelve working at the peak: two for a minute, ten for four seconds; then two.
    let mut w = Workload::new();
    w.active(c, 2, &role, "postgres", &app, 60).unwrap();
    w.active(c, 10, &role, "postgres", &app, 4).unwrap();
    let working_now = ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'active' \
             AND wait_event_type IS DISTINCT FROM 'Lock'"
        ),
    );
    assert_eq!(working_now, 12);
    let v = pgconn()
        .args([
            "advise",
            "--json",
            "--app",
            &app,
            "--samples",
            "8",
            "--interval",
            "1s",
            "--rate-window",
            "0s",
        ])
        .run()
        .assert_code(0)
        .json();
    // The server's own view after the samples: the ten ended, two work, four still wait.
    let working_after = ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'active' \
             AND wait_event_type IS DISTINCT FROM 'Lock'"
        ),
    );
    assert_eq!(working_after, 2);
    assert_eq!(waiting(), 4);
    let s = &v["sampling"];
    assert_eq!(s["samples"], 8, "{v:#}");
    assert_eq!(s["source"], "server");
    let d = s["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["application"] == app.as_str())
        .unwrap_or_else(|| panic!("{v:#}"));
    let working: Vec<u64> = d["working"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(working.len(), 8);
    assert_eq!(working[0], 12, "{working:?}");
    assert_eq!(*working.last().unwrap(), 2, "{working:?}");
    assert_eq!(
        d["working_peak"], 12,
        "the four lock waiters are not demand: {d:#}"
    );
    assert_eq!(d["lock_waiters_peak"], 4);
    assert!(pool_size_of(&v, &app) >= 12, "{v:#}");
    let evidence = finding(&v, "pool_budget").unwrap()["evidence"].to_string();
    assert!(
        evidence.contains(&format!("{app}: working sessions over 8 samples: 12 ")),
        "{evidence}"
    );
    assert!(
        evidence.contains(", peak 12 (up to 4 waiting on a lock"),
        "{evidence}"
    );

    // From the one instant only (no samples): the two working now.
    let v = pgconn()
        .args([
            "advise",
            "--json",
            "--app",
            &app,
            "--samples",
            "0",
            "--rate-window",
            "0s",
        ])
        .run()
        .assert_code(0)
        .json();
    assert!(v["sampling"].is_null());
    assert!(pool_size_of(&v, &app) < 12, "{v:#}");

    holder.batch_execute("ROLLBACK").unwrap();
    for t in waiters {
        t.join().unwrap().unwrap();
    }
    holder
        .batch_execute(&format!("DROP TABLE \"{table}\""))
        .unwrap();
}

#[test]
fn the_pooler_finding_names_what_transaction_pooling_would_break_here() {
    let c = cluster();
    let tag = unique("brk");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 20, &role, "postgres", &format!("{tag}-web"))
        .unwrap();
    let events = format!("{tag}-events");
    let jobs = format!("{tag}-jobs");
    let mut listener = c.connect(&role, "postgres", &events).unwrap();
    listener
        .batch_execute("/* worker */ LISTEN jobs_ready")
        .unwrap();
    let mut holder = c.connect(&role, "postgres", &jobs).unwrap();
    holder
        .batch_execute("SELECT pg_advisory_lock(4242)")
        .unwrap();
    let listener_pid = *server_pids(&events, Some("idle")).iter().next().unwrap();
    let holder_pid = *server_pids(&jobs, Some("idle")).iter().next().unwrap();
    // The server's own view of the advisory lock.
    assert_eq!(
        ground_truth_count(
            c,
            &format!("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = {holder_pid}")
        ),
        1
    );
    let v = pgconn()
        .args([
            "advise",
            "--json",
            "--app",
            &format!("{tag}-*"),
            "--samples",
            "0",
            "--rate-window",
            "0s",
        ])
        .run()
        .assert_code(0)
        .json();
    let f = finding(&v, "pgbouncer_recommended").unwrap_or_else(|| panic!("{v:#}"));
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let line = |what: &str| -> &str {
        evidence
            .iter()
            .find(|e| e.starts_with(&format!("transaction pooling would break {what}")))
            .unwrap_or_else(|| panic!("no {what} line: {evidence:#?}"))
    };
    assert!(
        line("LISTEN listeners")
            .ends_with(&format!(": 1 session of {events} (pid {listener_pid})")),
        "{evidence:#?}"
    );
    assert!(
        line("advisory-lock holders")
            .ends_with(&format!(": 1 session of {jobs} (pid {holder_pid})")),
        "{evidence:#?}"
    );
    // The idle web sessions are neither.
    assert!(
        !evidence.iter().any(|e| e.contains(&format!("{tag}-web ("))),
        "{evidence:#?}"
    );
    let rec = f["recommendation"].as_str().unwrap();
    assert!(
        rec.contains(&format!("{jobs}, {events}")) || rec.contains(&format!("{events}, {jobs}")),
        "{rec}"
    );
    assert!(rec.contains("pool_mode = session"), "{rec}");
    assert!(rec.contains("prepared statements"), "{rec}");
}
