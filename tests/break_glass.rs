//! The emergency route: a server whose every slot is taken, the reserved ones included, entered through a
//! WAL sender slot (`replication=database`) by the interactive commands and never by monitoring unless
//! told; the route refused for each reason; password authentication and TLS on it. Every test fills or
//! configures a real cluster of its own (the suite runs on PostgreSQL 14 to 18).

mod support;

use std::time::Duration;

use support::full::{full_cluster, ground_truth, value, walsender};
use support::{pgconn, start_cluster, wait_until, Cluster, ClusterOptions, Output};

/// The cluster's data directory as the rescue command names it.
fn data_dir(c: &Cluster) -> String {
    std::fs::canonicalize(c.data_dir())
        .unwrap()
        .display()
        .to_string()
}

fn run(c: &Cluster, args: &[&str]) -> Output {
    pgconn().env_cluster(c).args(args).run()
}

#[test]
fn a_full_server_is_read_and_freed_through_a_wal_sender_slot() {
    let f = full_cluster(&[]);
    let c = &f.c;
    let truth = ground_truth(c);
    let count = |app: &str, state: &str| {
        truth
            .get(&(app.to_string(), state.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("leaky-worker", "idle") as usize, f.leaky_idle);
    assert_eq!(count("runaway-admin", "idle") as usize, f.admin);

    // status: in by the emergency route, said on stderr and in the JSON, counts as the server's.
    let out = run(c, &["status", "--json"]).assert_code(0);
    assert!(
        out.stderr.contains("refused a normal connection")
            && out.stderr.contains("WAL sender slot"),
        "{}",
        out.stderr
    );
    let v = out.json();
    assert_eq!(v["connection"]["via"], "replication", "{}", v["connection"]);
    assert!(v["connection"]["reason"]
        .as_str()
        .unwrap()
        .contains("53300"));
    assert_eq!(v["capacity"]["used"], 8, "{}", v["capacity"]);
    assert_eq!(v["capacity"]["slots_left"], 0);
    assert_eq!(v["capacity"]["reserved_slots_left"], 0);
    assert_eq!(v["sessions"], 8);
    assert_eq!(
        v["states"]["idle"],
        count("leaky-worker", "idle") + count("runaway-admin", "idle")
    );
    assert_eq!(v["states"]["active"], 1);
    assert_eq!(v["states"]["idle_in_transaction"], 1);
    let human = run(c, &["status"]).assert_code(0);
    assert!(
        human
            .stdout
            .lines()
            .next()
            .unwrap()
            .contains("via a WAL sender slot"),
        "{}",
        human.stdout
    );

    // sessions: the same sessions.
    let v = run(c, &["sessions", "--json", "--app", "leaky-worker"])
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication");
    assert_eq!(
        v["count"].as_u64().unwrap() as usize,
        f.leaky_idle + 2,
        "{v}"
    );
    // The limit is a literal on this route (simple-query protocol): one row sent, every match counted.
    let v = run(
        c,
        &[
            "sessions",
            "--json",
            "--app",
            "leaky-worker",
            "--limit",
            "1",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v["count"].as_u64().unwrap() as usize,
        f.leaky_idle + 2,
        "{v}"
    );

    // Monitoring never takes a WAL sender slot unless told: check and watch are refused ...
    let out = run(c, &["check"]).assert_code(2);
    assert!(out.stdout.starts_with("PGCONN CRITICAL"), "{}", out.stdout);
    assert!(out.stdout.contains("53300"), "{}", out.stdout);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    let out = run(c, &["watch", "--count", "1", "--json"]);
    assert!(out.stdout.contains("\"ok\":false"), "{}", out.stdout);
    assert!(out.stdout.contains("53300"), "{}", out.stdout);
    // ... and Prometheus output, several targets, --break-glass never for status too.
    let out = run(c, &["status", "--format", "prometheus"]);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("pgconn_up"), "{}", out.stdout);
    let out = run(c, &["status", "--output", "/dev/null"]);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    // --format json for one server is a person's status like --json: the route is taken.
    let v = run(c, &["status", "--format", "json"])
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    let out = run(c, &["--break-glass", "never", "status"]).assert_code(1);
    assert!(out.stderr.contains("was not tried"), "{}", out.stderr);
    // The server runs on this machine: the error names the exact rescue command for it.
    assert!(
        out.stderr
            .contains(&format!("`pgconn rescue --pgdata {}`", data_dir(c))),
        "{}",
        out.stderr
    );
    // Told to, check gets in and reports the full server.
    let out = run(c, &["--break-glass", "always", "check"]).assert_code(2);
    assert!(out.stdout.contains("used=8"), "{}", out.stdout);

    // kill-idle frees exactly the idle leaky-worker sessions; the active and idle-in-transaction ones
    // and the superuser's stay.
    let v = run(
        c,
        &[
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            "leaky-worker",
            "--yes",
            "--json",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["connection"]["via"], "replication");
    assert_eq!(
        v["summary"]["terminated"].as_u64().unwrap() as usize,
        f.leaky_idle,
        "{v}"
    );
    let after = ground_truth(c);
    let after_count = |app: &str, state: &str| {
        after
            .get(&(app.to_string(), state.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(after_count("leaky-worker", "idle"), 0, "{after:?}");
    assert_eq!(after_count("leaky-worker", "active"), 1, "{after:?}");
    assert_eq!(after_count("leaky-worker", "idle in transaction"), 1);
    assert_eq!(after_count("runaway-admin", "idle") as usize, f.admin);

    // A normal connection gets in again: pgconn's own, without the route.
    let mut last = None;
    assert!(wait_until(Duration::from_secs(10), || {
        let out = run(c, &["--break-glass", "never", "status", "--json"]);
        let ok = out.status == 0;
        last = Some(out);
        ok
    }));
    let v = last.unwrap().json();
    assert_eq!(v["connection"]["via"], "normal");
    // And psql itself.
    let psql = support::full::psql_select_1(c);
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    drop(f.w);
}

#[test]
fn the_route_says_why_it_was_refused() {
    let f = full_cluster(&[("max_wal_senders", "2")]);
    let c = &f.c;

    // A role without REPLICATION: refused by the server, and told what to do.
    let out = run(c, &["-U", "app", "status"]).assert_code(1);
    assert!(
        out.stderr.contains("out of connection slots"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("emergency route failed too"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("may not open a WAL sender")
            && out.stderr.contains("ALTER ROLE \"app\" REPLICATION"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("`pgconn rescue --pgdata {}`", data_dir(c))),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    // A role with REPLICATION gets in; with one of two WAL sender slots already taken, pgconn says it
    // holds the last one.
    let mut held = walsender(c);
    assert_eq!(value(&mut held, "SELECT 1"), "1");
    let out = run(c, &["status", "--json"]).assert_code(0);
    assert!(
        out.stderr
            .contains("now holds the last free WAL sender slot"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["connection"]["via"], "replication");
    // A role that cannot see the other WAL senders is told it may.
    let out = run(c, &["-U", "ops", "status", "--json"]).assert_code(0);
    assert!(
        out.stderr
            .contains("may hold the last free WAL sender slot"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["server"]["current_user"], "ops");

    // Every WAL sender slot taken: also 53300, told apart by which connection failed.
    let mut held2 = walsender(c);
    assert_eq!(value(&mut held2, "SELECT 2"), "2");
    let out = run(c, &["status"]).assert_code(1);
    assert!(
        out.stderr.contains("every WAL sender slot is taken too")
            && out.stderr.contains("max_wal_senders"),
        "{}",
        out.stderr
    );
    drop((held, held2));
}

#[test]
fn password_authentication_and_tls_on_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let tls = support::tls::generate(dir.path());
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        ssl: Some(tls.ssl_files()),
        hba: vec![
            "host all scram_ops 127.0.0.1/32 scram-sha-256".into(),
            "host all md5_ops 127.0.0.1/32 md5".into(),
            "host all shut_out 127.0.0.1/32 reject".into(),
        ],
        ..ClusterOptions::default()
    });
    c.psql(
        "SET password_encryption = 'scram-sha-256'; \
         CREATE ROLE scram_ops LOGIN REPLICATION PASSWORD 's3cret pass'; \
         SET password_encryption = 'md5'; \
         CREATE ROLE md5_ops LOGIN REPLICATION PASSWORD 'md5 pass'; \
         CREATE ROLE shut_out LOGIN REPLICATION",
    )
    .unwrap();
    let port = c.tcp_port().unwrap().to_string();
    let conninfo = |user: &str, extra: &str| {
        format!("host=127.0.0.1 port={port} user={user} dbname=postgres {extra}")
    };
    let go = |user: &str, extra: &str, password: Option<&str>| {
        let mut cmd = pgconn()
            .no_cluster_env()
            .args(["--break-glass", "always", "-d", &conninfo(user, extra)])
            .args(["status", "--json"]);
        if let Some(p) = password {
            cmd = cmd.env("PGPASSWORD", p);
        }
        cmd.run()
    };
    // SCRAM over plain TCP, over TLS, and with channel binding required (SCRAM-SHA-256-PLUS).
    for extra in [
        "sslmode=disable",
        "sslmode=require",
        "sslmode=require channel_binding=require",
        "sslmode=prefer",
    ] {
        let out = go("scram_ops", extra, Some("s3cret pass")).assert_code(0);
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
        let v = out.json();
        assert_eq!(v["connection"]["via"], "replication", "{extra}: {v}");
        assert_eq!(v["server"]["current_user"], "scram_ops");
    }
    // md5.
    let v = go("md5_ops", "sslmode=require", Some("md5 pass"))
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication");
    // Without TLS, binding cannot be had: refused by pgconn before any password is sent.
    let out = go(
        "scram_ops",
        "sslmode=disable channel_binding=require",
        Some("s3cret pass"),
    )
    .assert_code(1);
    assert!(out.stderr.contains("channel binding"), "{}", out.stderr);
    // A wrong password, no password, and pg_hba.conf's reject: each said as what it is.
    let out = go("scram_ops", "sslmode=require", Some("wrong")).assert_code(1);
    assert!(
        out.stderr
            .contains("authentication failed for user \"scram_ops\""),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong"), "{}", out.stderr);
    let out = go("scram_ops", "sslmode=require", None).assert_code(1);
    assert!(out.stderr.contains("asks for a password"), "{}", out.stderr);
    let out = go("shut_out", "sslmode=require", None).assert_code(1);
    assert!(
        out.stderr.contains("refused the login") && out.stderr.contains("pg_hba.conf"),
        "{}",
        out.stderr
    );
    // TLS required and verified against the throwaway CA.
    let root = tls.ca_cert.display().to_string();
    let v = go(
        "scram_ops",
        &format!("sslmode=verify-ca sslrootcert={root}"),
        Some("s3cret pass"),
    )
    .assert_code(0)
    .json();
    assert_eq!(v["connection"]["via"], "replication");
}
